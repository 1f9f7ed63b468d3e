"""Small values identity validates everywhere: emails, names, slugs, timezones, roles."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo

from hearth_contracts.identity import ROLES, Relationship, Role
from hearth_identity.domain.errors import InvalidInput

__all__ = [
    "PLATFORM_SLUG",
    "ROLES",
    "STAFF_ROLES",
    "Relationship",
    "Role",
    "as_role",
    "clean_display_name",
    "clean_tenant_name",
    "normalize_email",
    "validate_slug",
    "validate_timezone",
]

# The tenant platform administrators belong to; never a council.
PLATFORM_SLUG = "platform"
STAFF_ROLES: frozenset[Role] = frozenset({"professional", "oncall", "council_admin"})

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 100
TENANT_NAME_MAX = 120

_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


def normalize_email(raw: str) -> str:
    """Lower-cased, trimmed address; raises InvalidInput unless it looks deliverable."""
    email = raw.strip().lower()
    if not email or len(email) > EMAIL_MAX:
        raise InvalidInput(f"email must be 1 to {EMAIL_MAX} characters", field="email")
    local, sep, domain = email.rpartition("@")
    if not sep or not local or not domain:
        raise InvalidInput("email must look like name@example.org", field="email")
    if len(local) > 64 or not _LOCAL.match(local):
        raise InvalidInput("email has an invalid name part", field="email")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise InvalidInput("email has an invalid domain", field="email")
    return email


def _clean_text(raw: str, *, field: str, max_length: int) -> str:
    text = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not text or len(text) > max_length:
        raise InvalidInput(f"{field} must be 1 to {max_length} characters", field=field)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInput(f"{field} must not contain control characters", field=field)
    return text


def clean_display_name(raw: str) -> str:
    """Whitespace collapsed, NFC, 1..100 characters, no control or format characters."""
    return _clean_text(raw, field="display_name", max_length=DISPLAY_NAME_MAX)


def clean_tenant_name(raw: str) -> str:
    return _clean_text(raw, field="name", max_length=TENANT_NAME_MAX)


def validate_slug(raw: str) -> str:
    """A council's short name in URLs and sign-in: 3..40 of a-z, 0-9 and inner hyphens."""
    slug = raw.strip().lower()
    if not _SLUG.match(slug) or "--" in slug:
        raise InvalidInput(
            "slug must be 3 to 40 characters: lower-case letters, digits and single "
            "hyphens, starting with a letter",
            field="slug",
        )
    return slug


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(raw: str) -> str:
    """An IANA timezone name known to this machine's tz database (e.g. Europe/London)."""
    name = raw.strip()
    if name not in _zones():
        raise InvalidInput(f"unknown IANA timezone {name[:64]!r}", field="timezone")
    return name


def as_role(raw: str) -> Role:
    for role in ROLES:
        if role == raw:
            return role
    raise InvalidInput(f"unknown role {raw[:32]!r}", field="role")
