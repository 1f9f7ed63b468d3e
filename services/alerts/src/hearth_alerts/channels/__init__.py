"""Notification channels behind one interface: signed webhooks, SMTP email, HTTP SMS,
and the staff console stream."""

from hearth_alerts.channels.base import Channels, NotificationChannel
from hearth_alerts.channels.console import ConsoleStreamChannel
from hearth_alerts.channels.email import SmtpEmailChannel
from hearth_alerts.channels.sms import SmsHttpChannel
from hearth_alerts.channels.webhook import WebhookChannel

__all__ = [
    "Channels",
    "ConsoleStreamChannel",
    "NotificationChannel",
    "SmsHttpChannel",
    "SmtpEmailChannel",
    "WebhookChannel",
]
