"""How to reach a person: their contact methods (webhook, email, SMS, staff console)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hearth_alerts.domain.notification import ChannelName

MAX_METHODS = 10
SECRET_MIN = 16
SECRET_MAX = 200
URL_MAX = 2000
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


class ContactMethod(BaseModel):
    """One way to reach a person. `address` is a URL, an email address, an E.164 phone
    number, or empty for the console. Webhooks have a signing secret."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelName
    address: str = Field(default="", max_length=URL_MAX)
    secret: str | None = Field(default=None, min_length=SECRET_MIN, max_length=SECRET_MAX)

    @model_validator(mode="after")
    def _check(self) -> ContactMethod:
        self.address = self.address.strip()
        if self.channel == "webhook":
            check_webhook_url(self.address)
        elif self.channel == "email":
            if len(self.address) > 254 or not _EMAIL.match(self.address):
                raise ValueError("email address must look like name@example.org")
            self.address = self.address.lower()
        elif self.channel == "sms":
            if not _PHONE.match(self.address):
                raise ValueError("phone number must be in E.164 form, e.g. +447700900123")
        elif self.address:
            raise ValueError("the console channel takes no address")
        if self.secret is not None and self.channel != "webhook":
            raise ValueError("only webhooks have a secret")
        return self


class ContactBook(BaseModel):
    """Every contact method of one person."""

    model_config = ConfigDict(extra="forbid")

    methods: list[ContactMethod] = Field(default_factory=list, max_length=MAX_METHODS)

    @model_validator(mode="after")
    def _unique(self) -> ContactBook:
        keys = [(m.channel, m.address) for m in self.methods]
        if len(set(keys)) != len(keys):
            raise ValueError("each contact method is listed once")
        return self

    def with_secrets(self) -> ContactBook:
        """The same book where every webhook has a secret (new random ones where missing)."""
        methods = [
            m
            if m.channel != "webhook" or m.secret
            else m.model_copy(update={"secret": secrets.token_urlsafe(32)})
            for m in self.methods
        ]
        return ContactBook(methods=methods)

    def webhook_hosts(self) -> list[str]:
        return [urlsplit(m.address).hostname or "" for m in self.methods if m.channel == "webhook"]


def check_webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("webhook address must be an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("webhook address must not carry credentials")
    return url


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and unnamed local hosts (literal addresses
    and `localhost`); public names are left to the network's egress rules."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost") or name.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_multicast
    )
