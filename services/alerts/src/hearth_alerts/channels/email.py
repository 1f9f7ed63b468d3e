"""Email over SMTP (standard library, in a worker thread so the event loop never blocks)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from hearth_alerts.domain.notification import ChannelName, DeliveryResult, Notification

_SUBJECTS = {
    "alert": "[Hearth] {severity} alert needs a response",
    "all_clear": "[Hearth] All clear",
    "assigned": "[Hearth] Alert assigned to you",
}


class SmtpEmailChannel:
    name: ChannelName = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def build(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = notification.address
        subject = _SUBJECTS[notification.kind].format(severity=notification.message.severity)
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(idstring=notification.id)
        message["X-Hearth-Alert-Id"] = notification.alert_id
        message["X-Hearth-Notification-Id"] = notification.id
        message.set_content(notification.message.text + "\n")
        return message

    def _send_blocking(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(message)

    async def send(self, notification: Notification) -> DeliveryResult:
        message = self.build(notification)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except smtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult.failed(
                f"recipient refused: {exc.recipients}"[:300], retryable=False
            )
        except smtplib.SMTPResponseException as exc:
            # 5xx answers are permanent; 4xx ones (greylisting, busy) may pass.
            return DeliveryResult.failed(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:300], retryable=exc.smtp_code < 500
            )
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}"[:300])
        return DeliveryResult.delivered(f"accepted by {self._host}:{self._port}")

    async def aclose(self) -> None:
        return None
