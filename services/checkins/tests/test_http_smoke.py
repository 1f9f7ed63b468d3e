from __future__ import annotations

from checkins_testkit import Api


async def test_schedule_roundtrip(api: Api) -> None:
    put = await api.put_schedule()
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["next"]["local"] == "2026-01-15T09:00"
    got = await api.client.get("/v1/residents/rita/checkin-schedule", headers=api.headers("rita"))
    assert got.status_code == 200, got.text
    assert got.json() == body
