"""Commands identity accepts: the validated bodies of its HTTP requests.

Every model forbids unknown fields, is strict about types and bounds every string, so
bad input is refused with a reason before any handler runs. Rules that need context
(password strength against the name and email) are checked by the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hearth_identity.domain import InvalidInput, Relationship, Role
from hearth_identity.domain import values as v


def _domain(check: Callable[[str], str]) -> AfterValidator:
    """A domain rule as a field validator: its reason becomes the field's error."""

    def run(value: str) -> str:
        try:
            return check(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc

    return AfterValidator(run)


Email = Annotated[str, Field(min_length=3, max_length=v.EMAIL_MAX), _domain(v.normalize_email)]
DisplayName = Annotated[
    str, Field(min_length=1, max_length=v.DISPLAY_NAME_MAX * 2), _domain(v.clean_display_name)
]
# Bounded well above any policy so the policy, not the parser, explains what is wrong.
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Slug = Annotated[str, Field(min_length=1, max_length=64)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SignIn(Command):
    tenant: Slug
    # Not validated as an address: a malformed one fails like any wrong credential.
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Password


class Refresh(Command):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class Logout(Command):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]
    everywhere: bool = False


class NewAccount(Command):
    email: Email
    password: Password
    display_name: DisplayName


class CreateTenant(Command):
    slug: Annotated[str, Field(min_length=3, max_length=40), _domain(v.validate_slug)]
    name: Annotated[str, Field(min_length=1, max_length=240), _domain(v.clean_tenant_name)]
    timezone: Annotated[str, Field(min_length=1, max_length=64), _domain(v.validate_timezone)]
    admin: NewAccount


class CreateUser(Command):
    email: Email
    password: Password
    display_name: DisplayName
    role: Role
    # Residents only: the professional responsible for them (a professional creating a
    # resident is responsible by default).
    responsible_professional_id: Id | None = None


class ChangeRole(Command):
    role: Role


class CreateInvitation(Command):
    relationship: Relationship
    # When a professional invites on a resident's behalf they confirm the resident agreed.
    consent_confirmed: bool = False


class JoinCircle(Command):
    """Join with an invitation code: a new account (tenant, email, password, display name),
    or the signed-in caller's existing account (code only, with a bearer token)."""

    code: Annotated[str, Field(min_length=1, max_length=200)]
    tenant: Slug | None = None
    email: Email | None = None
    password: Password | None = None
    display_name: DisplayName | None = None
