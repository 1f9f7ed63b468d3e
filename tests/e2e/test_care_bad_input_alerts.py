"""Bad input to alerts, through the gateway, from callers who may act: the on-call rota
and its overrides, escalation policies, alert settings, contact methods and alerts, and
people who cannot be paged (the council and the checks: `support.care_input`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.care_input import (
    Bad,
    Setting,
    at,
    check_refused,
    fill_json,
    layer,
    make_setting,
    rota,
    step,
    view,
)
from support.surface import error_of, fields_of

from hearth_devstack.seed import SeedResult

CASES = [
    # ---- on-call rota ------------------------------------------------------------------
    Bad("rota-unknown-timezone", "PUT", "/v1/oncall/rota", rota(timezone="Europe/Atlantis"),
        422, "timezone", "rota"),
    Bad("zero-length-shift", "PUT", "/v1/oncall/rota", rota(layer(length_hours=0)),
        422, "layers.0.length_hours", "rota"),
    Bad("shift-not-dividing-a-day", "PUT", "/v1/oncall/rota", rota(layer(length_hours=5)),
        422, "layers.0.length_hours", "rota"),
    Bad("handoff-hour-25", "PUT", "/v1/oncall/rota", rota(layer(handoff_time="25:00")),
        422, "layers.0.handoff_time", "rota"),
    Bad("handoff-minute-60", "PUT", "/v1/oncall/rota", rota(layer(handoff_time="12:60")),
        422, "layers.0.handoff_time", "rota"),
    Bad("layer-without-people", "PUT", "/v1/oncall/rota", rota(layer(users=[])),
        422, "layers.0.users", "rota"),
    Bad("person-twice-in-a-layer", "PUT", "/v1/oncall/rota",
        rota(layer(users=["{oncall}", "{oncall}"])), 422, "layers.0.users", "rota"),
    Bad("two-layers-one-name", "PUT", "/v1/oncall/rota", rota(layer(), layer()),
        422, "layers", "rota"),
    Bad("layer-unknown-field", "PUT", "/v1/oncall/rota", rota(layer(colour="red")),
        422, "layers.0.colour", "rota"),
    Bad("layers-not-a-list", "PUT", "/v1/oncall/rota", {"timezone": "Europe/London",
        "layers": "primary"}, 422, "layers", "rota"),
    Bad("rota-malformed-json", "PUT", "/v1/oncall/rota", b'{"timezone": "Europe/London"',
        400, None, "rota", code="malformed_json"),
    Bad("override-ends-before-start", "POST", "/v1/oncall/overrides",
        {"layer": "primary", "kind": "cover", "user_id": "{oncall}", "start": at(5),
         "end": at(4)}, 422, None, "rota"),
    Bad("override-unknown-layer", "POST", "/v1/oncall/overrides",
        {"layer": "nights", "kind": "cover", "user_id": "{oncall}", "start": at(4),
         "end": at(5)}, 422, "layer", "rota"),
    Bad("override-already-over", "POST", "/v1/oncall/overrides",
        {"layer": "primary", "kind": "cover", "user_id": "{oncall}", "start": at(-5),
         "end": at(-4)}, 422, "end", "rota"),
    Bad("override-without-offset", "POST", "/v1/oncall/overrides",
        {"layer": "primary", "kind": "cover", "user_id": "{oncall}",
         "start": "2027-01-01T09:00:00", "end": "2027-01-02T09:00:00"}, 422, "start", "rota"),
    Bad("swap-with-nobody", "POST", "/v1/oncall/overrides",
        {"layer": "primary", "kind": "swap", "user_id": "{oncall}", "start": at(4),
         "end": at(5)}, 422, None, "rota"),
    Bad("override-unknown-kind", "POST", "/v1/oncall/overrides",
        {"layer": "primary", "kind": "borrow", "user_id": "{oncall}", "start": at(4),
         "end": at(5)}, 422, "kind", "rota"),
    Bad("end-unknown-override", "DELETE", "/v1/oncall/overrides/nosuchoverride", None,
        404, None, "rota"),
    # ---- escalation policies -----------------------------------------------------------
    Bad("policy-without-steps", "PUT", "/v1/escalation-policies/{policy}", {"steps": []},
        422, "steps", "policy"),
    Bad("negative-delay", "PUT", "/v1/escalation-policies/{policy}", {"steps": [step(-60)]},
        422, "steps.0.delay_seconds", "policy"),
    Bad("delay-over-a-day", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step(90_000)]}, 422, "steps.0.delay_seconds", "policy"),
    Bad("step-without-targets", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [{"delay_seconds": 0, "targets": []}]}, 422, "steps.0.targets", "policy"),
    Bad("layer-target-without-layer", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step(0, {"type": "layer"})]}, 422, "steps.0.targets.0", "policy"),
    Bad("user-target-without-user", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step(0, {"type": "user"})]}, 422, "steps.0.targets.0", "policy"),
    Bad("unknown-target-type", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step(0, {"type": "everyone"})]}, 422, "steps.0.targets.0.type", "policy"),
    Bad("too-many-repeats", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step()], "repeat": 11}, 422, "repeat", "policy"),
    Bad("unknown-urgent-source", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step()], "urgent_sources": ["gossip"]}, 422, "urgent_sources.0", "policy"),
    Bad("delay-as-text", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step("soon")]}, 422, "steps.0.delay_seconds", "policy"),
    Bad("policy-unknown-field", "PUT", "/v1/escalation-policies/{policy}",
        {"steps": [step()], "quiet_hours": True}, 422, "quiet_hours", "policy"),
    Bad("policy-malformed-json", "PUT", "/v1/escalation-policies/{policy}", b"steps: []",
        400, None, "policy", code="malformed_json"),
    Bad("policy-bad-name", "PUT", "/v1/escalation-policies/Night%20Cover!", {"steps": [step()]},
        422, "name", "policy"),
    Bad("settings-name-no-policy", "PUT", "/v1/alerts/settings",
        {"policies": {"checkin_missed": "no-such-policy"}}, 422, "policies", "settings"),
    Bad("settings-unknown-severity", "PUT", "/v1/alerts/settings",
        {"severities": {"checkin_missed": "apocalyptic"}}, 422, "severities.checkin_missed",
        "settings"),
    Bad("settings-unknown-source", "PUT", "/v1/alerts/settings",
        {"severities": {"gossip": "low"}}, 422, "severities.gossip", "settings"),
    # ---- contact methods (the on-call's own) -------------------------------------------
    Bad("email-malformed", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "email", "address": "not-an-address"}]}, 422, "methods.0",
        "contacts", who="oncall"),
    Bad("sms-not-e164", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "sms", "address": "07700 900123"}]}, 422, "methods.0",
        "contacts", who="oncall"),
    Bad("webhook-not-http", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "webhook", "address": "ftp://care.example.org/x"}]}, 422,
        "methods.0", "contacts", who="oncall"),
    Bad("webhook-with-credentials", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "webhook", "address": "https://u:p@care.example.org/x"}]}, 422,
        "methods.0", "contacts", who="oncall"),
    Bad("console-with-address", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "console", "address": "desk 4"}]}, 422, "methods.0",
        "contacts", who="oncall"),
    Bad("same-method-twice", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "console"}, {"channel": "console"}]}, 422, None,
        "contacts", who="oncall"),
    Bad("secret-too-short", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "webhook", "address": "https://care.example.org/x",
                      "secret": "short"}]}, 422, "methods.0.secret", "contacts", who="oncall"),
    Bad("unknown-channel", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "pigeon"}]}, 422, "methods.0.channel", "contacts", who="oncall"),
    Bad("too-many-methods", "PUT", "/v1/users/{oncall}/contact-methods",
        {"methods": [{"channel": "email", "address": f"n{i}@care.example.org"}
                     for i in range(11)]}, 422, "methods", "contacts", who="oncall"),
    # ---- alerts (by the on-call) -------------------------------------------------------
    Bad("resolve-unknown-outcome", "POST", "/v1/alerts/{alert}/resolve", {"outcome": "shrug"},
        422, "outcome", "alert", who="oncall"),
    Bad("resolve-without-outcome", "POST", "/v1/alerts/{alert}/resolve", {"note": "done"},
        422, "outcome", "alert", who="oncall"),
    Bad("acknowledge-note-too-long", "POST", "/v1/alerts/{alert}/acknowledge",
        {"note": "n" * 2001}, 422, "note", "alert", who="oncall"),
    Bad("acknowledge-unknown-field", "POST", "/v1/alerts/{alert}/acknowledge",
        {"eta_minutes": 5}, 422, "eta_minutes", "alert", who="oncall"),
    Bad("acknowledge-malformed-json", "POST", "/v1/alerts/{alert}/acknowledge", b"{note}",
        400, None, "alert", who="oncall", code="malformed_json"),
    Bad("reassign-odd-user-id", "POST", "/v1/alerts/{alert}/reassign", {"user_id": "../admin"},
        422, "user_id", "alert", who="oncall"),
    Bad("reassign-user-id-as-number", "POST", "/v1/alerts/{alert}/reassign", {"user_id": 7},
        422, "user_id", "alert", who="oncall"),
    Bad("alerts-unknown-status", "GET", "/v1/alerts?status=bogus", None, 422, "status", "alert",
        who="oncall"),
    Bad("alerts-limit-zero", "GET", "/v1/alerts?limit=0", None, 422, "limit", "alert",
        who="oncall"),
    Bad("alerts-limit-text", "GET", "/v1/alerts?limit=many", None, 422, "limit", "alert",
        who="oncall"),
    Bad("oncall-now-without-offset", "GET", "/v1/oncall/now?at=2026-12-24T18:00:00", None,
        422, "at", "rota", who="oncall"),
    Bad("oncall-now-not-a-time", "GET", "/v1/oncall/now?at=teatime", None, 422, "at", "rota",
        who="oncall"),
]  # fmt: skip


@pytest.fixture(scope="module")
def setting(http: httpx.Client, demo: SeedResult) -> Setting:
    return make_setting(http, demo)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(
    http: httpx.Client, setting: Setting, case: Bad
) -> None:
    check_refused(http, setting, case)


def _cover(user: str, **extra: Any) -> dict[str, Any]:
    return {"layer": "primary", "kind": "cover", "user_id": user, "start": at(4), "end": at(5),
            **extra}  # fmt: skip


def _named(user: str) -> dict[str, Any]:
    return {"steps": [step(0), step(300, {"type": "user", "user_id": user})]}


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "field"),
    [
        ("PUT", "/v1/oncall/rota", rota(layer(users=["no-such-person"])), "unknown_user",
         "layers.0.users.0"),
        ("PUT", "/v1/oncall/rota", rota(layer(users=["{resident}"])), "not_a_responder",
         "layers.0.users.0"),
        ("PUT", "/v1/oncall/rota",
         rota(layer(), layer(name="backup", users=["{oncall}", "{resident}"])),
         "not_a_responder", "layers.1.users.1"),
        ("POST", "/v1/oncall/overrides", _cover("no-such-person"), "unknown_user", "user_id"),
        ("POST", "/v1/oncall/overrides", _cover("{oncall}", kind="swap",
         with_user_id="{resident}"), "not_a_responder", "with_user_id"),
        ("PUT", "/v1/escalation-policies/{policy}", _named("no-such-person"), "unknown_user",
         "steps.1.targets.0.user_id"),
        ("PUT", "/v1/escalation-policies/{policy}", _named("{resident}"), "not_a_responder",
         "steps.1.targets.0.user_id"),
        ("POST", "/v1/alerts/{alert}/reassign", {"user_id": "no-such-person"}, "unknown_user",
         "user_id"),
        ("POST", "/v1/alerts/{alert}/reassign", {"user_id": "{resident}"}, "not_a_responder",
         "user_id"),
    ],
    ids=["rota-unknown-user", "rota-resident-on-call", "rota-resident-as-backup",
         "override-unknown-user", "swap-with-resident", "policy-unknown-user",
         "policy-names-resident", "reassign-unknown-user", "reassign-to-resident"],
)  # fmt: skip
def test_a_person_who_cannot_be_on_call_is_refused(
    http: httpx.Client,
    setting: Setting,
    method: str,
    path: str,
    body: Any,
    code: str,
    field: str,
) -> None:
    seen = "alert" if "{alert}" in path else "policy" if "{policy}" in path else "rota"
    before = view(http, setting, seen)
    response = http.request(
        method,
        setting.fill(path),
        json=fill_json(setting, body),
        headers=setting.council.admin.auth,
    )
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == code, error
    assert fields_of(error) == {field}, error
    assert view(http, setting, seen) == before
