"""What council administrators set up: the rota and its overrides, escalation policies,
severities and policies per source; and how each person can be reached.

Whoever a rota, an override or a policy names must be able to be on call (see
`handlers.people`); `token` is the caller's own, for asking identity about them."""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from hearth_alerts.adapters.repositories import (
    ROTA_ID,
    SETTINGS_ID,
    Versioned,
    retry_on_conflict,
)
from hearth_alerts.commands import CreateOverride, PutPolicy, PutRota
from hearth_alerts.domain.contacts import ContactBook, is_private_host
from hearth_alerts.domain.errors import Forbidden, InvalidInput, NotFoundError
from hearth_alerts.domain.escalation import CouncilSettings, Policy, builtin_policy
from hearth_alerts.domain.people import layer_members, override_members, policy_users
from hearth_alerts.domain.rota import OnCall, Override, Rota
from hearth_alerts.domain.values import ADMIN_ROLE, check_name
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.people import check_responders, contact_subject
from hearth_kit.auth import Principal
from hearth_kit.store import Query


def _invalid(exc: ValueError | ValidationError, field: str) -> InvalidInput:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return InvalidInput(message, field=field)
    return InvalidInput(str(exc), field=field)


# ---- rota -----------------------------------------------------------------------------------
async def get_rota(*, principal: Principal, deps: AlertsDeps) -> Versioned[Rota]:
    loaded = await deps.repos.rotas.get(principal.tenant_id, ROTA_ID)
    if loaded is None:
        raise NotFoundError("this council has no rota yet")
    return loaded


async def put_rota(
    cmd: PutRota, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> Versioned[Rota]:
    """Replace the layers (and timezone); overrides are kept."""
    await check_responders(layer_members(cmd.layers), principal=principal, deps=deps, token=token)

    def change(current: Rota | None) -> Rota:
        overrides = current.overrides if current is not None else []
        return Rota(timezone=cmd.timezone, layers=cmd.layers, overrides=overrides)

    return await deps.repos.rotas.upsert(principal.tenant_id, ROTA_ID, change)


async def add_override(
    cmd: CreateOverride, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> Override:
    now = deps.now()
    try:
        override = Override(
            id=uuid.uuid4().hex,
            layer=cmd.layer,
            kind=cmd.kind,
            user_id=cmd.user_id,
            with_user_id=cmd.with_user_id,
            start=cmd.start.timestamp(),
            end=cmd.end.timestamp(),
            created_at=now,
            created_by=principal.user_id,
        )
    except ValidationError as exc:
        raise _invalid(exc, "override") from exc
    if override.end <= now:
        raise InvalidInput("the override has already ended", field="end")
    await check_responders(
        override_members(override.user_id, override.with_user_id),
        principal=principal,
        deps=deps,
        token=token,
    )

    async def attempt() -> Override:
        current = await get_rota(principal=principal, deps=deps)
        try:
            current.value.add_override(override, now=now)
        except ValueError as exc:
            raise _invalid(exc, "layer") from exc
        await deps.repos.rotas.save(principal.tenant_id, ROTA_ID, current)
        return override

    return await retry_on_conflict(attempt)


async def remove_override(override_id: str, *, principal: Principal, deps: AlertsDeps) -> None:
    async def attempt() -> None:
        current = await get_rota(principal=principal, deps=deps)
        if not current.value.remove_override(override_id):
            raise NotFoundError("no such override")
        await deps.repos.rotas.save(principal.tenant_id, ROTA_ID, current)

    await retry_on_conflict(attempt)


async def on_call_now(
    *, at: float, principal: Principal, deps: AlertsDeps
) -> tuple[Rota | None, list[OnCall]]:
    loaded = await deps.repos.rotas.get(principal.tenant_id, ROTA_ID)
    if loaded is None:
        return None, []
    return loaded.value, loaded.value.on_call(at)


# ---- escalation policies and council settings -----------------------------------------------
async def get_policy(name: str, *, principal: Principal, deps: AlertsDeps) -> tuple[Policy, bool]:
    """(policy, built_in): the council's stored policy, else a built-in of that name."""
    check = _name(name)
    loaded = await deps.repos.policies.get(principal.tenant_id, check)
    if loaded is not None:
        return loaded.value, False
    builtin = builtin_policy(check)
    if builtin is None:
        raise NotFoundError(f"no escalation policy named {check!r}")
    return builtin, True


async def list_policies(*, principal: Principal, deps: AlertsDeps) -> list[Policy]:
    stored, _ = await deps.repos.policies.find(
        principal.tenant_id, Query(order_by="name", limit=100)
    )
    return stored


async def put_policy(
    name: str, cmd: PutPolicy, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> Policy:
    try:
        policy = Policy(name=_name(name), **cmd.model_dump())
    except ValidationError as exc:
        raise _invalid(exc, "policy") from exc
    await check_responders(policy_users(policy.steps), principal=principal, deps=deps, token=token)
    await deps.repos.policies.upsert(principal.tenant_id, policy.name, lambda _: policy)
    return policy


def _name(name: str) -> str:
    return check_name(name, field="name")


async def get_settings(*, principal: Principal, deps: AlertsDeps) -> CouncilSettings:
    loaded = await deps.repos.settings.get(principal.tenant_id, SETTINGS_ID)
    return loaded.value if loaded else CouncilSettings()


async def put_settings(
    cmd: CouncilSettings, *, principal: Principal, deps: AlertsDeps
) -> CouncilSettings:
    tenant_id = principal.tenant_id
    for source, name in cmd.policies.items():
        stored = await deps.repos.policies.get(tenant_id, name)
        if stored is None and builtin_policy(name) is None:
            raise InvalidInput(
                f"{source} names policy {name!r}, which does not exist", field="policies"
            )

    await deps.repos.settings.upsert(tenant_id, SETTINGS_ID, lambda _: cmd)
    return cmd


# ---- contact methods ------------------------------------------------------------------------
def _may_manage_contacts(principal: Principal, user_id: str) -> None:
    if principal.user_id != user_id and ADMIN_ROLE not in principal.roles:
        raise Forbidden("only the person themself or a council administrator may do this")


async def get_contacts(
    user_id: str, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> ContactBook:
    _may_manage_contacts(principal, user_id)
    await contact_subject(user_id, principal=principal, deps=deps, token=token)
    loaded = await deps.repos.contacts.get(principal.tenant_id, user_id)
    return loaded.value if loaded else ContactBook()


async def put_contacts(
    user_id: str, book: ContactBook, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> ContactBook:
    """Replace how a person is reached. Webhooks are for council staff (the person
    reached, whoever sets them up); each gets a signing secret (a new random one unless
    the caller gives it)."""
    _may_manage_contacts(principal, user_id)
    subject = await contact_subject(user_id, principal=principal, deps=deps, token=token)
    if any(m.channel == "webhook" for m in book.methods):
        staff = principal.is_staff if subject is None else subject.is_staff
        if not staff:
            raise Forbidden("only council staff may receive webhooks")
        if not deps.allow_private_webhooks:
            for host in book.webhook_hosts():
                if is_private_host(host):
                    raise InvalidInput(
                        f"webhook host {host} is a local or private address", field="methods"
                    )
    full = book.with_secrets()
    await deps.repos.contacts.upsert(principal.tenant_id, user_id, lambda _: full)
    return full
