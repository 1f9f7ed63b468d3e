"""Notifications (attempts, backoff, final failure), contact methods, circles, signatures."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hearth_alerts.domain.circle import Circle
from hearth_alerts.domain.contacts import ContactBook, ContactMethod, is_private_host
from hearth_alerts.domain.notification import (
    DeliveryResult,
    Message,
    Notification,
    RetryPolicy,
    notification_id,
)
from hearth_alerts.domain.signing import sign, verify


def notification(max_attempts: int = 3) -> Notification:
    return Notification(
        id="n1",
        tenant_id="t1",
        alert_id="a1",
        kind="alert",
        step=0,
        round=0,
        recipient_id="u1",
        channel="webhook",
        address="https://example.org/hook",
        secret="s" * 32,
        message=Message(
            alert_id="a1", kind="alert", source="checkin_missed", severity="high", text="t"
        ),
        max_attempts=max_attempts,
        created_at=100.0,
        next_attempt_at=130.0,
    )


def test_retry_backoff_doubles_up_to_its_cap() -> None:
    retry = RetryPolicy(max_attempts=10, base_seconds=2, max_seconds=10)
    assert [retry.delay(n) for n in range(1, 6)] == [2, 4, 8, 10, 10]


def test_retryable_failures_are_retried_then_fail_for_good() -> None:
    n = notification(max_attempts=3)
    retry = RetryPolicy(base_seconds=1, max_seconds=60)
    assert n.record_attempt(DeliveryResult.failed("HTTP 500"), now=200, retry=retry) == "retry"
    assert n.next_attempt_at == 201 and n.status == "pending"
    assert n.record_attempt(DeliveryResult.failed("HTTP 503"), now=201, retry=retry) == "retry"
    assert n.next_attempt_at == 203
    assert n.record_attempt(DeliveryResult.failed("timeout"), now=203, retry=retry) == "failed"
    assert n.status == "failed" and n.next_attempt_at is None and n.attempts == 3
    assert n.last_error == "timeout"
    with pytest.raises(ValueError, match="already failed"):
        n.record_attempt(DeliveryResult.delivered("late"), now=204, retry=retry)


def test_permanent_failure_is_final_at_once_and_success_clears_the_timer() -> None:
    retry = RetryPolicy()
    n = notification()
    assert (
        n.record_attempt(DeliveryResult.failed("HTTP 404", retryable=False), now=1, retry=retry)
        == "failed"
    )
    ok = notification()
    assert (
        ok.record_attempt(DeliveryResult.delivered("HTTP 200"), now=5, retry=retry) == "delivered"
    )
    assert ok.status == "delivered" and ok.delivered_at == 5 and ok.next_attempt_at is None


def test_notification_ids_are_stable_per_step_person_and_address() -> None:
    one = notification_id("a", "alert", 1, 0, "u", "email", "x@example.org")
    assert one == notification_id("a", "alert", 1, 0, "u", "email", "x@example.org")
    assert one != notification_id("a", "alert", 1, 1, "u", "email", "x@example.org")
    assert one != notification_id("a", "alert", 2, 0, "u", "email", "x@example.org")


def test_contact_methods_are_validated() -> None:
    book = ContactBook(
        methods=[
            ContactMethod(channel="email", address=" Pat@Example.ORG "),
            ContactMethod(channel="sms", address="+447700900123"),
            ContactMethod(channel="webhook", address="https://hooks.example.org/x"),
            ContactMethod(channel="console"),
        ]
    )
    assert book.methods[0].address == "pat@example.org"
    with_secrets = book.with_secrets()
    secret = with_secrets.methods[2].secret
    assert secret is not None and len(secret) >= 32
    assert with_secrets.with_secrets().methods[2].secret == secret


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ({"channel": "email", "address": "not-an-email"}, "email address"),
        ({"channel": "sms", "address": "07700 900123"}, "E.164"),
        ({"channel": "webhook", "address": "ftp://example.org"}, "http"),
        ({"channel": "webhook", "address": "https://u:p@example.org"}, "credentials"),
        ({"channel": "webhook", "address": "https://e.org", "secret": "short"}, "at least 16"),
        ({"channel": "email", "address": "a@b.org", "secret": "s" * 20}, "only webhooks"),
        ({"channel": "console", "address": "x"}, "no address"),
        ({"channel": "pigeon", "address": "x"}, "Input should be"),
    ],
)
def test_invalid_contact_methods_are_refused(method: dict[str, str], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        ContactMethod.model_validate(method)


def test_a_contact_book_lists_each_method_once_and_at_most_ten() -> None:
    same = {"channel": "sms", "address": "+447700900123"}
    with pytest.raises(ValidationError, match="once"):
        ContactBook.model_validate({"methods": [same, same]})
    many = [{"channel": "sms", "address": f"+4477009001{i:02d}"} for i in range(11)]
    with pytest.raises(ValidationError):
        ContactBook.model_validate({"methods": many})


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.5", True),
        ("169.254.169.254", True),
        ("[::1]", True),
        ("localhost", True),
        ("alerts.local", True),
        ("8.8.8.8", False),
        ("hooks.example.org", False),
    ],
)
def test_private_hosts_are_recognised(host: str, private: bool) -> None:
    assert is_private_host(host) is private


def test_circle_keeps_the_latest_change_whatever_the_order() -> None:
    circle = Circle(resident_id="r1")
    assert circle.apply("fam", present=False, at=20)
    assert not circle.apply("fam", present=True, at=10, relationship="family")  # older add
    assert circle.member_ids() == []
    assert circle.apply("fam", present=True, at=30, relationship="family")
    assert circle.apply("carer", present=True, at=5, relationship="carer")
    assert circle.member_ids() == ["carer", "fam"]
    assert not circle.apply("fam", present=True, at=30, relationship="family")


def test_signatures_verify_only_for_the_same_secret_body_and_recent_time() -> None:
    body = b'{"a":1}'
    signature = sign("secret-1", "1000", body)
    assert verify("secret-1", "1000", body, signature, now=1100)
    assert not verify("secret-2", "1000", body, signature, now=1100)
    assert not verify("secret-1", "1000", b'{"a":2}', signature, now=1100)
    assert not verify("secret-1", "1000", body, signature, now=2000)
    assert not verify("secret-1", "not-a-time", body, signature, now=1000)
