"""Exactly once across two check-ins replicas, with one of them killed -9 mid-burst.

A second check-ins replica runs on the same store as the first. Many residents of a fresh
council share one deadline (the same whole minute; grace is counted in whole minutes, so
a whole minute is the finest moment the schedule API offers). Both replicas hold the
burst in their look-ahead before it comes (their metrics say so).

So that the replica killed is the one holding the burst (a whole burst takes a tenth of
a second; a kill after it proves little), the first replica is paused with SIGSTOP from
a second before the deadline: the extra replica claims and fires the burst alone. The
moment the first `checkins.checkin.missed` of the council reaches the broker, the extra
replica is killed with SIGKILL and the first one resumed. What the killed one had
claimed and not saved is retaken by the survivor once the claim's lease runs out
(CHECKINS_TIMER_LEASE_SECONDS, 15 s by default: the stack gives no per-replica settings,
so the test waits for it); what it had saved and not published, the survivor's outbox
relay publishes once that lease (10 s) runs out.

What is asserted, per resident and occurrence:
- exactly one `checkins.checkin.missed` event id on the topic: the deadline fired once.
  The same event may be delivered twice (a relay killed between publishing and
  acknowledging publishes it again, by design); such redeliveries carry the same event id,
  are absorbed by alerts' inbox, and are counted, not failed;
- exactly one alert (`GET /v1/alerts` as staff), source checkin_missed, for that
  occurrence: none lost, none doubled;
- the resident's schedule records that occurrence as missed, once.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from prometheus_client.parser import text_string_to_metric_families
from support.councils import PASSWORD, Council, new_council
from support.surface import TopicWatcher, sleep_until, wait_for

from hearth_contracts.checkins import CheckInMissed
from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack

RESIDENTS = 40
TIMEZONE = "Europe/London"
# Setting the schedules must finish before the deadline: the first whole minute this far on.
LEAD_SECONDS = 15.0
# The default lease of a claimed deadline and of a claimed outbox entry (the stack gives
# no per-replica settings), plus room for the survivor to retake, publish and alerts to
# consume on two cores.
TIMER_LEASE = 15.0
OUTBOX_LEASE = 10.0
ALL_ALERTS_WITHIN = TIMER_LEASE + OUTBOX_LEASE + 45.0
# After every alert is there: how long we keep watching for a double.
QUIET_AFTER = TIMER_LEASE + OUTBOX_LEASE + 3.0


def _metric(stack: Stack, replica: int, name: str, **labels: str) -> float:
    """One sample of a check-ins replica's own metrics (0 when it has none yet)."""
    response = httpx.get(f"{stack.url('checkins', replica)}/metrics", timeout=5)
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def _fired(stack: Stack, replica: int) -> float:
    return _metric(
        stack, replica, "hearth_timer_fired_total", timer="checkin_states", outcome="fired"
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _register_residents(council: Council, count: int) -> list[str]:
    def create(i: int) -> str:
        response = council.http.post(
            "/v1/users",
            json={
                "email": f"burst{i}@{council.slug}.example",
                "password": PASSWORD,
                "display_name": f"Resident {i}",
                "role": "resident",
            },
            headers=council.admin.auth,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(create, range(count)))


def _missed_alerts(council: Council) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = council.http.get("/v1/alerts", params=params, headers=council.admin.auth)
        assert page.status_code == 200, page.text
        body = page.json()
        found.extend(a for a in body["items"] if a["source"] == "checkin_missed")
        cursor = body["next_cursor"]
        if not cursor:
            return found


def test_every_missed_occurrence_raises_one_alert_across_a_kill_9(
    http: httpx.Client, demo: SeedResult, stack: Stack
) -> None:
    council = new_council(http, demo, "burst")
    residents = _register_residents(council, RESIDENTS)
    extra = stack.start_replica("checkins")
    replicas = (0, extra)
    watcher = TopicWatcher(stack.bootstrap_servers, [CheckInMissed.TYPE]).start()
    first_pid = stack.pid("checkins", 0)
    assert first_pid is not None
    paused = False
    try:
        # The deadline: the first whole minute at least LEAD_SECONDS away. The check-in is
        # due a minute before it, with one minute of grace (the least there is).
        deadline = (int(time.time() + LEAD_SECONDS) // 60 + 1) * 60
        due_local = datetime.fromtimestamp(deadline - 60, ZoneInfo(TIMEZONE))
        schedule = {
            "timezone": TIMEZONE,
            "times": [{"at": due_local.strftime("%H:%M")}],
            "grace_minutes": 1,
        }
        occurrence_of: dict[str, str] = {}
        for resident in residents:
            put = http.put(
                f"/v1/residents/{resident}/checkin-schedule",
                json=schedule,
                headers=council.admin.auth,
            )
            assert put.status_code == 200, put.text
            expected = put.json()["next"]
            assert expected["deadline_at"] == _iso(deadline), expected
            occurrence_of[resident] = expected["occurrence_id"]

        # Both replicas are in the race: each holds the whole burst in its look-ahead.
        def both_hold_the_burst() -> bool:
            return all(
                _metric(stack, r, "hearth_timer_lookahead_deadlines", timer="checkin_states")
                >= RESIDENTS
                for r in replicas
            )

        wait_for(
            both_hold_the_burst,
            within=deadline - time.time() - 2,
            what="both replicas to hold the burst's deadlines in their look-ahead",
        )
        survivor_before = _fired(stack, 0)

        def ours(envelope: dict[str, object]) -> bool:
            return envelope.get("tenant_id") == council.id

        # The burst is the extra replica's alone: the first one sleeps through the deadline.
        sleep_until(deadline - 1)
        os.kill(first_pid, signal.SIGSTOP)
        paused = True
        watcher.first(ours, within=30, what="the first missed event")
        stack.kill("checkins", signal.SIGKILL, replica=extra)
        killed_at = time.time()
        os.kill(first_pid, signal.SIGCONT)
        paused = False

        def all_alerts() -> list[dict[str, object]] | None:
            alerts = _missed_alerts(council)
            return alerts if len(alerts) >= RESIDENTS else None

        wait_for(
            all_alerts,
            within=deadline + ALL_ALERTS_WITHIN - time.time(),
            what=f"{RESIDENTS} missed check-in alerts (one per resident)",
            interval=0.5,
        )
        sleep_until(time.time() + QUIET_AFTER)
        retaken = _fired(stack, 0) - survivor_before
    finally:
        if paused:
            os.kill(first_pid, signal.SIGCONT)
        watcher.stop()
        # Back to a normal stack: replica 0 running, the extra replica gone.
        stack.stop_replica("checkins", extra)
    assert stack.is_running("checkins", 0)

    # One alert per resident and occurrence: none lost, none doubled.
    alerts = _missed_alerts(council)
    per_occurrence = Counter(str(a["refs"]["occurrence_id"]) for a in alerts)  # type: ignore[index]
    assert set(per_occurrence) == set(occurrence_of.values()), (
        "alerts for occurrences that were not expected, or occurrences without an alert: "
        f"{set(per_occurrence) ^ set(occurrence_of.values())}"
    )
    doubled = {occ: n for occ, n in per_occurrence.items() if n != 1}
    assert doubled == {}, f"occurrences with more than one alert: {doubled}"
    assert {a["resident_id"] for a in alerts} == set(residents)

    # The deadline fired once per occurrence: one event id each (redeliveries of that one
    # event are allowed and absorbed by alerts' inbox).
    events = watcher.matching(ours)
    ids_per_occurrence: dict[str, set[str]] = {}
    for envelope in events:
        data = envelope["data"]
        ids_per_occurrence.setdefault(data["occurrence_id"], set()).add(envelope["event_id"])
    assert set(ids_per_occurrence) == set(occurrence_of.values())
    fired_twice = {occ: ids for occ, ids in ids_per_occurrence.items() if len(ids) != 1}
    assert fired_twice == {}, f"occurrences missed more than once: {fired_twice}"

    # Each resident's own record agrees: that occurrence was missed, once.
    for resident, occurrence in occurrence_of.items():
        seen = http.get(f"/v1/residents/{resident}/checkin-schedule", headers=council.admin.auth)
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["last"]["outcome"] == "missed", body["last"]
        assert body["last"]["occurrence_id"] == occurrence
        assert body["unrecovered"] == [occurrence]

    # For the record (-rA shows it): how the burst went.
    arrivals = sorted(arrived for arrived, e in watcher.records if ours(e))
    print(
        f"\n{RESIDENTS} deadlines at {_iso(deadline)}; replica {extra} killed "
        f"{killed_at - deadline:.3f}s after it; the survivor fired {retaken:.0f} of them "
        f"after the lease; {len(arrivals)} deliveries of {len(ids_per_occurrence)} events, "
        f"the last {arrivals[-1] - deadline:.1f}s after the deadline"
    )
