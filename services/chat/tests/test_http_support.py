"""Live support over HTTP: requests, the queue, claims, handovers, closing, and the
unanswered timer (exactly one event, and a plain-words notice)."""

from __future__ import annotations

import asyncio

from chat_testkit import Api

from hearth_chat.domain.support import UNANSWERED_NOTICE


async def open_request(api: Api, by: str = "rita", **body: object) -> dict:  # type: ignore[type-arg]
    response = await api.client.post("/v1/support/requests", json=body, headers=api.headers(by))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


async def test_queue_is_urgent_first_then_longest_waiting(api: Api) -> None:
    normal = await open_request(api, "rita")
    api.clock.advance(5)
    urgent = await open_request(api, "ron", urgency="urgent")
    api.clock.advance(5)
    family = await open_request(api, "dana", resident_id="rita", text="Mum sounds confused")
    queue = await api.client.get("/v1/support/queue", headers=api.headers("olly"))
    assert queue.status_code == 200, queue.text
    assert [r["id"] for r in queue.json()["items"]] == [urgent["id"], normal["id"], family["id"]]
    assert queue.json()["items"][1]["waiting_seconds"] == 10
    refused = await api.client.get("/v1/support/queue", headers=api.headers("rita"))
    assert refused.status_code == 403
    other_council = await api.client.get("/v1/support/queue", headers=api.headers("sue"))
    assert other_council.json()["items"] == []


async def test_an_open_request_is_returned_not_duplicated(api: Api) -> None:
    first = await open_request(api)
    again = await api.client.post("/v1/support/requests", json={}, headers=api.headers("rita"))
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]


async def test_who_may_ask_for_support(api: Api) -> None:
    h = api.client.post
    assert (await h("/v1/support/requests", json={}, headers=api.headers("pat"))).status_code == 403
    assert (
        await h("/v1/support/requests", json={}, headers=api.headers("dana"))
    ).status_code == 422  # family say which resident it is about
    assert (
        await h("/v1/support/requests", json={"resident_id": "ron"}, headers=api.headers("dana"))
    ).status_code == 404
    bad = await h("/v1/support/requests", json={"urgency": "panic"}, headers=api.headers("rita"))
    assert bad.status_code == 422


async def test_claim_handover_close(api: Api) -> None:
    request = await open_request(api, text="I have had a fall")
    conversation = request["conversation_id"]
    not_yet = await api.post(conversation, "Hello, I'm here", by="olly")
    assert not_yet.status_code == 403  # claim first
    api.clock.advance(12)
    claimed = await api.client.post(
        f"/v1/support/requests/{request['id']}/claim", headers=api.headers("olly")
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"] == "olly"
    twice = await api.client.post(
        f"/v1/support/requests/{request['id']}/claim", headers=api.headers("pat")
    )
    assert twice.status_code == 409
    assert (await api.post(conversation, "Hello, I'm here", by="olly")).status_code == 201
    handed = await api.client.post(
        f"/v1/support/requests/{request['id']}/handover",
        json={"to_user_id": "pat", "note": "needs a visit"},
        headers=api.headers("olly"),
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["assignee"] == "pat"
    not_staff = await api.client.post(
        f"/v1/support/requests/{request['id']}/handover",
        json={"to_user_id": "dana"},
        headers=api.headers("pat"),
    )
    assert not_staff.status_code == 422
    assert (await api.post(conversation, "Pat here", by="pat")).status_code == 201
    closed = await api.client.post(
        f"/v1/support/requests/{request['id']}/close",
        json={"outcome": "resolved"},
        headers=api.headers("pat"),
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    after = await api.post(conversation, "thank you", by="rita")
    assert after.status_code == 409
    page = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("rita")
    )
    kinds = [m["kind"] for m in reversed(page.json()["items"])]
    assert kinds == ["text", "system", "text", "system", "text", "system"]
    types = [e["type"] for e in await api.support_events()]
    assert types == ["chat.support.requested", "chat.support.claimed", "chat.support.closed"]
    metrics = (await api.client.get("/metrics")).text
    assert (
        'hearth_chat_support_wait_seconds_count{tenant="tenant-north",urgency="normal"} 1.0'
        in metrics
    )


async def test_unanswered_requests_call_on_call_exactly_once(api: Api) -> None:
    request = await open_request(api)
    api.clock.advance(59)
    await settle()
    assert [e["type"] for e in await api.support_events()] == ["chat.support.requested"]
    api.clock.advance(2)
    for _ in range(100):
        await asyncio.sleep(0.01)
        if "chat.support.unanswered" in [e["type"] for e in await api.support_events()]:
            break
    api.clock.advance(120)
    await settle()
    events = await api.support_events()
    unanswered = [e for e in events if e["type"] == "chat.support.unanswered"]
    assert len(unanswered) == 1
    assert unanswered[0]["data"]["request_id"] == request["id"]
    assert unanswered[0]["data"]["waited_seconds"] >= 60
    page = await api.client.get(
        f"/v1/conversations/{request['conversation_id']}/messages", headers=api.headers("rita")
    )
    notices = [m["text"] for m in page.json()["items"] if m["kind"] == "system"]
    assert notices == [UNANSWERED_NOTICE]
    # Still claimable afterwards: someone answers.
    claimed = await api.client.post(
        f"/v1/support/requests/{request['id']}/claim", headers=api.headers("olly")
    )
    assert claimed.status_code == 200


async def test_a_claim_in_time_stops_the_timer(api: Api) -> None:
    request = await open_request(api)
    api.clock.advance(30)
    await api.client.post(f"/v1/support/requests/{request['id']}/claim", headers=api.headers("pat"))
    api.clock.advance(120)
    await settle()
    types = [e["type"] for e in await api.support_events()]
    assert "chat.support.unanswered" not in types


async def test_councils_set_their_own_target(api: Api) -> None:
    refused = await api.client.put(
        "/v1/support/settings", json={"target_seconds": 20}, headers=api.headers("pat")
    )
    assert refused.status_code == 403
    invalid = await api.client.put(
        "/v1/support/settings", json={"target_seconds": 1}, headers=api.headers("ada")
    )
    assert invalid.status_code == 422
    saved = await api.client.put(
        "/v1/support/settings", json={"target_seconds": 20}, headers=api.headers("ada")
    )
    assert saved.status_code == 200
    request = await open_request(api)
    assert request["target_seconds"] == 20
    api.clock.advance(21)
    for _ in range(100):
        await asyncio.sleep(0.01)
        if "chat.support.unanswered" in [e["type"] for e in await api.support_events()]:
            break
    assert "chat.support.unanswered" in [e["type"] for e in await api.support_events()]
    south = await api.client.get("/v1/support/settings", headers=api.headers("sue"))
    assert south.json()["target_seconds"] == 60


async def test_requests_are_private_to_the_requester_and_staff(api: Api) -> None:
    request = await open_request(api)
    for caller, status in (("rita", 200), ("pat", 200), ("ron", 404), ("sue", 404)):
        response = await api.client.get(
            f"/v1/support/requests/{request['id']}", headers=api.headers(caller)
        )
        assert response.status_code == status, caller
    conversation = request["conversation_id"]
    staff = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("olly")
    )
    assert staff.status_code == 200  # the support desk sees support conversations
    other = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("ron")
    )
    assert other.status_code == 404
    withdrawn = await api.client.post(
        f"/v1/support/requests/{request['id']}/close",
        json={"outcome": "withdrawn"},
        headers=api.headers("rita"),
    )
    assert withdrawn.status_code == 200
