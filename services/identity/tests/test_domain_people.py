"""Unit tests of who may do what to whom: accounts, roles and circles of support."""

from __future__ import annotations

import pytest

from hearth_contracts.identity import (
    CircleMemberAdded,
    CircleMemberRemoved,
    UserDeactivated,
    UserRoleChanged,
)
from hearth_identity.domain import (
    Circle,
    CirclePolicy,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    InvitationCode,
    NotFoundError,
    Role,
    User,
    can_read,
    check_can_create,
    check_can_list,
    role_for,
)

T = "tenant-a"
POLICY = CirclePolicy(invitation_seconds=100, max_pending=2, keep_closed_seconds=50)


def person(uid: str, role: Role, *, tenant: str = T, responsible: str | None = None) -> User:
    user, _ = User.register(
        user_id=uid,
        tenant_id=tenant,
        email=f"{uid}@example.org",
        display_name=uid.title(),
        role=role,
        password_hash="h",
        now=0.0,
        created_by=None,
        responsible_id=responsible,
    )
    return user


ADMIN = person("admin", "council_admin")
PRO = person("pro", "professional")
OTHER_PRO = person("otherpro", "professional")
ONCALL = person("oncall", "oncall")
RESIDENT = person("rita", "resident", responsible="pro")
FAMILY = person("dana", "family")
CARER = person("carl", "carer")
ROOT = person("root", "platform_admin", tenant="platform")


@pytest.mark.parametrize(
    ("actor", "role", "allowed"),
    [
        (ADMIN, "resident", True),
        (ADMIN, "professional", True),
        (ADMIN, "oncall", True),
        (ADMIN, "council_admin", True),
        (ADMIN, "platform_admin", False),
        (ADMIN, "family", False),
        (PRO, "resident", True),
        (PRO, "oncall", False),
        (ONCALL, "resident", False),
        (RESIDENT, "family", False),
        (FAMILY, "resident", False),
        (ROOT, "platform_admin", True),
        (ROOT, "council_admin", False),
    ],
)
def test_who_creates_whom(actor: User, role: Role, allowed: bool) -> None:
    if allowed:
        check_can_create(actor, role)
    else:
        with pytest.raises(Forbidden):
            check_can_create(actor, role)


def test_reading_and_listing() -> None:
    assert can_read(FAMILY, FAMILY) and not can_read(FAMILY, RESIDENT)
    assert can_read(ONCALL, RESIDENT) and can_read(PRO, FAMILY)
    check_can_list(ADMIN)
    for actor in (RESIDENT, FAMILY, CARER):
        with pytest.raises(Forbidden):
            check_can_list(actor)


def test_only_residents_have_a_responsible_professional() -> None:
    with pytest.raises(InvalidInput):
        person("x", "oncall", responsible="pro")


def test_role_changes() -> None:
    target = person("olly", "oncall")
    event = target.change_role("professional", actor=ADMIN, now=5)
    assert event == UserRoleChanged(
        user_id="olly", old_role="oncall", new_role="professional", changed_by="admin"
    )
    assert target.change_role("professional", actor=ADMIN, now=6) is None  # no change
    with pytest.raises(Forbidden):
        target.change_role("oncall", actor=PRO, now=7)
    with pytest.raises(Forbidden):
        ADMIN.change_role("oncall", actor=ADMIN, now=7)
    with pytest.raises(InvalidInput):
        person("r2", "resident").change_role("family", actor=ADMIN, now=7)
    with pytest.raises(InvalidInput):
        target.change_role("platform_admin", actor=ADMIN, now=7)


def test_deactivation() -> None:
    target = person("olly", "oncall")
    assert target.deactivate(actor=ADMIN, now=1) == UserDeactivated(
        user_id="olly", deactivated_by="admin"
    )
    assert not target.active
    assert target.deactivate(actor=ADMIN, now=2) is None
    with pytest.raises(Forbidden):
        person("p2", "resident").deactivate(actor=PRO, now=1)
    with pytest.raises(Forbidden):
        ADMIN.deactivate(actor=ADMIN, now=1)
    with pytest.raises(Conflict):
        target.change_role("professional", actor=ADMIN, now=3)


def circle() -> Circle:
    return Circle(tenant_id=T, resident_id="rita")


def test_resident_invites_and_a_family_member_joins_with_consent() -> None:
    c = circle()
    invitation, code = c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="family",
        consent_confirmed=False,
        invitation_id="inv-1",
        now=0,
        policy=POLICY,
    )
    assert invitation.consent_basis == "resident" and invitation.consent_by == "rita"
    assert code.secret not in repr(c)
    assert InvitationCode.parse(code.encode()) == code
    events = c.accept(code, member=FAMILY, now=10)
    assert events == [
        CircleMemberAdded(
            resident_id="rita", member_id="dana", relationship="family", consent_by="rita"
        )
    ]
    member = c.member("dana")
    assert member is not None and member.consent_basis == "resident"
    assert [a.action for a in c.audit] == ["invitation_created", "member_added"]
    with pytest.raises(Gone):  # one-time
        c.accept(code, member=CARER, now=11)


def test_professional_invites_only_with_confirmed_consent() -> None:
    c = circle()
    with pytest.raises(InvalidInput):
        c.invite(
            actor=PRO,
            resident=RESIDENT,
            relationship="carer",
            consent_confirmed=False,
            invitation_id="i",
            now=0,
            policy=POLICY,
        )
    invitation, _ = c.invite(
        actor=PRO,
        resident=RESIDENT,
        relationship="carer",
        consent_confirmed=True,
        invitation_id="i",
        now=0,
        policy=POLICY,
    )
    assert invitation.consent_basis == "professional" and invitation.consent_by == "pro"


@pytest.mark.parametrize("actor", [OTHER_PRO, ADMIN, ONCALL, FAMILY, person("x", "resident")])
def test_others_may_not_invite(actor: User) -> None:
    with pytest.raises(Forbidden):
        circle().invite(
            actor=actor,
            resident=RESIDENT,
            relationship="family",
            consent_confirmed=True,
            invitation_id="i",
            now=0,
            policy=POLICY,
        )


def test_invitation_limits_relationships_and_expiry() -> None:
    c = circle()
    with pytest.raises(InvalidInput):
        c.invite(
            actor=RESIDENT,
            resident=RESIDENT,
            relationship="professional",
            consent_confirmed=False,
            invitation_id="i0",
            now=0,
            policy=POLICY,
        )
    codes = [
        c.invite(
            actor=RESIDENT,
            resident=RESIDENT,
            relationship="friend",
            consent_confirmed=False,
            invitation_id=f"i{n}",
            now=0,
            policy=POLICY,
        )[1]
        for n in (1, 2)
    ]
    with pytest.raises(Conflict):  # max_pending
        c.invite(
            actor=RESIDENT,
            resident=RESIDENT,
            relationship="friend",
            consent_confirmed=False,
            invitation_id="i3",
            now=0,
            policy=POLICY,
        )
    with pytest.raises(Gone):
        c.accept(codes[0], member=FAMILY, now=100)  # expired
    # Expired invitations no longer count, and are pruned once long closed.
    c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="friend",
        consent_confirmed=False,
        invitation_id="i4",
        now=100,
        policy=POLICY,
    )
    c.prune(200, POLICY)
    assert [i.id for i in c.invitations] == ["i4"]


def test_wrong_codes_and_accounts() -> None:
    c = circle()
    _, code = c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="family",
        consent_confirmed=False,
        invitation_id="i",
        now=0,
        policy=POLICY,
    )
    with pytest.raises(NotFoundError):
        c.accept(InvitationCode("rita", "x" * 32), member=FAMILY, now=1)
    with pytest.raises(NotFoundError):
        c.accept(InvitationCode("someone-else", code.secret), member=FAMILY, now=1)
    for bad in ("", "nodot", "a.short", "a." + "x" * 100, "a b.cccccccccccccccccccc"):
        with pytest.raises(NotFoundError):
            InvitationCode.parse(bad)
    for member in (ONCALL, RESIDENT, person("far", "family", tenant="tenant-b")):
        with pytest.raises(Forbidden):
            c.accept(code, member=member, now=1)
    c.accept(code, member=FAMILY, now=1)
    _, again = c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="family",
        consent_confirmed=False,
        invitation_id="j",
        now=2,
        policy=POLICY,
    )
    with pytest.raises(Conflict):
        c.accept(again, member=FAMILY, now=3)


def joined() -> Circle:
    c = circle()
    _, code = c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="carer",
        consent_confirmed=False,
        invitation_id="i",
        now=0,
        policy=POLICY,
    )
    c.accept(code, member=CARER, now=1)
    return c


@pytest.mark.parametrize("actor", [RESIDENT, PRO, CARER])
def test_resident_professional_or_member_removes(actor: User) -> None:
    c = joined()
    events = c.remove("carl", actor=actor, resident=RESIDENT, now=5)
    assert events == [
        CircleMemberRemoved(resident_id="rita", member_id="carl", removed_by=actor.id)
    ]
    assert c.member("carl") is None and c.audit[-1].action == "member_removed"
    with pytest.raises(NotFoundError):
        c.remove("carl", actor=RESIDENT, resident=RESIDENT, now=6)


@pytest.mark.parametrize("actor", [OTHER_PRO, ADMIN, ONCALL, FAMILY])
def test_others_may_not_remove(actor: User) -> None:
    c = joined()
    with pytest.raises(Forbidden):
        c.remove("carl", actor=actor, resident=RESIDENT, now=5)
    assert c.member("carl") is not None


def test_viewing_and_revoking() -> None:
    c = joined()
    for actor in (RESIDENT, PRO, OTHER_PRO, ONCALL, ADMIN, CARER):
        assert c.may_view(actor, RESIDENT)
    assert not c.may_view(FAMILY, RESIDENT)
    assert not c.may_view(person("far", "council_admin", tenant="tenant-b"), RESIDENT)
    invitation, code = c.invite(
        actor=RESIDENT,
        resident=RESIDENT,
        relationship="family",
        consent_confirmed=False,
        invitation_id="k",
        now=2,
        policy=POLICY,
    )
    with pytest.raises(Forbidden):
        c.revoke_invitation("k", actor=ONCALL, resident=RESIDENT, now=3)
    c.revoke_invitation("k", actor=RESIDENT, resident=RESIDENT, now=3)
    with pytest.raises(Gone):
        c.revoke_invitation("k", actor=RESIDENT, resident=RESIDENT, now=4)
    with pytest.raises(Gone):
        c.accept(code, member=FAMILY, now=4)
    with pytest.raises(NotFoundError):
        c.revoke_invitation("nope", actor=RESIDENT, resident=RESIDENT, now=4)
    assert invitation.status == "revoked"


def test_roles_of_joining_accounts() -> None:
    assert role_for("carer") == "carer"
    assert {role_for(r) for r in ("family", "friend", "neighbour")} == {"family"}
