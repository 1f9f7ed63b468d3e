"""Who alerts may page: the people a rota, an override or a policy names, and the people
an escalation step resolves to."""

from __future__ import annotations

from datetime import date, time

import pytest

from hearth_alerts.domain.errors import InvalidInput, NotFoundError
from hearth_alerts.domain.escalation import Step, Target
from hearth_alerts.domain.people import (
    check_contact_subject,
    check_responder,
    layer_members,
    override_members,
    policy_users,
    resident_author,
    skip_reason,
)
from hearth_alerts.domain.rota import Layer
from hearth_kit.people import Person


def layer(name: str, *users: str) -> Layer:
    return Layer(
        name=name,
        users=list(users),
        length_hours=24,
        handoff_time=time(9, 0),
        start_date=date(2026, 1, 1),
    )


def test_every_reference_carries_the_field_that_names_it() -> None:
    assert layer_members([layer("primary", "ann"), layer("backup", "bob", "cat")]) == [
        ("ann", "layers.0.users.0"),
        ("bob", "layers.1.users.0"),
        ("cat", "layers.1.users.1"),
    ]
    assert override_members("ann", None) == [("ann", "user_id")]
    assert override_members("ann", "bob") == [("ann", "user_id"), ("bob", "with_user_id")]
    steps = [
        Step(delay_seconds=0, targets=[Target(type="oncall"), Target(type="circle")]),
        Step(delay_seconds=60, targets=[Target(type="resident"), Target(type="user", user_id="m")]),
    ]
    assert policy_users(steps) == [("m", "steps.1.targets.1.user_id")]


@pytest.mark.parametrize("role", ["professional", "oncall", "council_admin"])
def test_active_staff_can_be_on_call(role: str) -> None:
    person = Person("u", role, active=True)
    assert check_responder(person, field="user_id") is person


@pytest.mark.parametrize(
    ("person", "code"),
    [
        (None, "unknown_user"),
        (Person("u", "oncall", active=False), "user_deactivated"),
        (Person("u", "resident", active=True), "not_a_responder"),
        (Person("u", "family", active=True), "not_a_responder"),
        (Person("u", "carer", active=True), "not_a_responder"),
        (Person("u", "platform_admin", active=True), "not_a_responder"),
        (Person("u", None, active=True), "not_a_responder"),
    ],
)
def test_anyone_else_is_refused_naming_the_field(person: Person | None, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_responder(person, field="layers.0.users.2")
    assert (refused.value.code, refused.value.field) == (code, "layers.0.users.2")


def test_an_unknown_id_is_refused_without_naming_it() -> None:
    """Another council's id is "nobody" here, answered word for word as a made-up one."""
    with pytest.raises(InvalidInput) as refused:
        check_responder(None, field="user_id")
    assert "u" not in refused.value.message.split()
    with pytest.raises(NotFoundError) as missing:
        check_contact_subject(None)
    assert (missing.value.code, missing.value.message) == ("user_not_found", "user not found")
    resident = Person("r", "resident", active=True)
    assert check_contact_subject(resident) is resident


def test_steps_skip_deactivated_people_and_former_staff_but_page_strangers() -> None:
    assert skip_reason(None, as_staff=True) is None  # a late event never silences a step
    assert skip_reason(Person("u", "oncall", active=True), as_staff=True) is None
    assert skip_reason(Person("u", "oncall", active=False), as_staff=True) == "deactivated"
    assert skip_reason(Person("u", "family", active=False), as_staff=False) == "deactivated"
    assert skip_reason(Person("u", "resident", active=True), as_staff=True) == "not_staff"
    assert skip_reason(Person("u", "resident", active=True), as_staff=False) is None


@pytest.mark.parametrize(
    ("person", "resident"),
    [
        (Person("r", "resident", active=True), "r"),
        (Person("r", "resident", active=False), "r"),  # still who the message is about
        (Person("f", "family", active=True), None),
        (Person("c", "carer", active=True), None),
        (Person("o", "oncall", active=True), None),
        (Person("n", None, active=True), None),
        (None, None),  # alerts has not heard of them: could be anyone
    ],
    ids=["resident", "deactivated-resident", "family", "carer", "staff", "no-role", "unknown"],
)
def test_only_a_resident_author_is_the_resident_of_a_flagged_message(
    person: Person | None, resident: str | None
) -> None:
    assert resident_author(person) == resident
