"""Unit tests of identity's value rules, password policy and sign-in lockout."""

from __future__ import annotations

import pytest

from hearth_identity.domain import InvalidInput, LockoutPolicy, LoginThrottle, PasswordPolicy
from hearth_identity.domain.values import (
    as_role,
    clean_display_name,
    normalize_email,
    validate_slug,
    validate_timezone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Ann.Smith@Example.ORG ", "ann.smith@example.org"), ("a+b@x.co.uk", "a+b@x.co.uk")],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "@example.org",
        "ann@",
        "ann@localhost",
        "ann@@example.org",
        "a b@example.org",
        "ann@-bad.org",
        "ann@example.c",
        "ann..smith@example.org",
        "x" * 65 + "@example.org",
        "ann@" + "a" * 250 + ".org",
    ],
)
def test_invalid_emails_are_refused_with_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalize_email(raw)
    assert err.value.field == "email"


def test_display_names_are_cleaned_and_bounded() -> None:
    assert clean_display_name("  Rita   Resident ") == "Rita Resident"
    for bad in ("", "   ", "x" * 101, "Rita\u0000", "Rita\u200b"):
        with pytest.raises(InvalidInput):
            clean_display_name(bad)


def test_slugs_and_timezones() -> None:
    assert validate_slug("North-Yorks") == "north-yorks"
    for bad in ("ab", "1north", "north-", "no--rth", "north_yorks", "x" * 41):
        with pytest.raises(InvalidInput):
            validate_slug(bad)
    assert validate_timezone("Europe/London") == "Europe/London"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "europe/london"):
        with pytest.raises(InvalidInput):
            validate_timezone(bad)


def test_roles() -> None:
    assert as_role("carer") == "carer"
    with pytest.raises(InvalidInput):
        as_role("superuser")


POLICY = PasswordPolicy()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 10"),
        ("x" * 129, "at most 128"),
        (" leading-space-pass", "spaces"),
        ("aaaaaaaaaaaa", "different characters"),
        ("abababababab", "different characters"),
        ("password1234", "too common"),
        ("PASSWORD1234", "too common"),
        ("abcdefghijkl", "too common"),
        ("9876543210", "too common"),
        ("ritasmith-garden", "name or email"),
        ("resident-rita-pw", "name or email"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as err:
        POLICY.check(password, email="ritasmith@example.org", name="Rita Resident")
    assert err.value.field == "password"
    assert reason in err.value.message


def test_a_long_unusual_password_passes() -> None:
    POLICY.check("kettle-garden-42-lantern", email="ritasmith@example.org", name="Rita Resident")
    # A personal word inside an otherwise long password is fine.
    POLICY.check("Kept-across-restarts-1", email="kept@example.org", name="Kept Person")
    POLICY.check("ünïcødé pässphrase", email=None, name=None)


def test_lockout_backoff_doubles_up_to_a_ceiling() -> None:
    policy = LockoutPolicy(free_attempts=3, base_seconds=10, max_seconds=60)
    assert [policy.lock_seconds(n) for n in range(1, 8)] == [0, 0, 10, 20, 40, 60, 60]
    assert policy.lock_seconds(10_000) == 60


def test_throttle_locks_after_free_attempts_and_resets_on_success() -> None:
    policy = LockoutPolicy(free_attempts=3, base_seconds=10, max_seconds=60)
    throttle = LoginThrottle()
    now = 1000.0
    for _ in range(2):
        throttle.record_failure(now, policy)
        assert throttle.retry_after(now) is None
    throttle.record_failure(now, policy)
    assert throttle.retry_after(now) == 10
    assert throttle.retry_after(now + 10) is None
    throttle.record_failure(now + 10, policy)
    assert throttle.retry_after(now + 10) == 20
    throttle.record_success()
    assert throttle.is_clean and throttle.retry_after(now + 10) is None


def test_old_failures_are_forgotten() -> None:
    policy = LockoutPolicy(free_attempts=2, base_seconds=10, reset_after_seconds=100)
    throttle = LoginThrottle()
    throttle.record_failure(0.0, policy)
    throttle.record_failure(500.0, policy)  # the first is forgotten: still free
    assert throttle.failures == 1 and throttle.retry_after(500.0) is None
    assert throttle.forget_at(policy) == 600.0
