"""Conversations and messages over HTTP: who may talk with whom, validation, paging,
edits within the window, read markers, tenancy."""

from __future__ import annotations

import json

import pytest
from chat_testkit import Api

from hearth_chat.handlers.identity_events import people_events
from hearth_contracts.identity import CircleMemberRemoved
from hearth_kit.people import CircleMember
from hearth_kit.testing import NORTH, identity_envelope


async def test_a_pair_has_one_direct_conversation(api: Api) -> None:
    first = await api.client.post(
        "/v1/conversations", json={"with_user_id": "dana"}, headers=api.headers("rita")
    )
    assert first.status_code == 201, first.text
    again = await api.client.post(
        "/v1/conversations", json={"with_user_id": "rita"}, headers=api.headers("dana")
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert sorted(first.json()["members"]) == ["dana", "rita"]


@pytest.mark.parametrize(
    ("caller", "other", "status"),
    [
        ("carl", "rita", 404),  # a carer outside her circle learns nothing
        ("rita", "carl", 404),
        ("rita", "ron", 404),  # residents are not each other's circle
        ("dana", "ron", 404),
        ("sam", "rita", 404),  # another council
        ("sue", "rita", 404),  # staff of another council
        ("pat", "rita", 201),  # staff reach anyone of their council
        ("rita", "pat", 201),  # and residents reach staff
        ("root", "rita", 403),  # platform administrators do not chat
        ("rita", "rita", 422),
    ],
)
async def test_who_may_start_a_direct_conversation(
    api: Api, caller: str, other: str, status: int
) -> None:
    response = await api.client.post(
        "/v1/conversations", json={"with_user_id": other}, headers=api.headers(caller)
    )
    assert response.status_code == status, response.text
    assert ("error" in response.json()) == (status >= 400)


async def test_identity_is_asked_about_a_circle_not_heard_of_yet(api: Api) -> None:
    api.identity.circles["ron"] = [CircleMember("carl", "carer", "carer")]
    response = await api.client.post(
        "/v1/conversations", json={"with_user_id": "ron"}, headers=api.headers("carl")
    )
    assert response.status_code == 201, response.text
    assert "circle:ron" in api.identity.calls
    api.identity.down = True
    refused = await api.client.post(
        "/v1/conversations", json={"with_user_id": "rita"}, headers=api.headers("carl")
    )
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "2"


async def test_leaving_the_circle_ends_the_conversation_for_the_member(api: Api) -> None:
    conversation = await api.direct()
    assert (await api.post(conversation, "Hi mum", by="dana")).status_code == 201
    removed = CircleMemberRemoved(resident_id="rita", member_id="dana", removed_by="rita")
    await people_events(api.deps).on_circle_member_removed(
        removed, identity_envelope(removed, NORTH, "rita")
    )
    gone = await api.client.get(f"/v1/conversations/{conversation}", headers=api.headers("dana"))
    assert gone.status_code == 404
    history = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("rita")
    )
    assert history.status_code == 200
    refused = await api.post(conversation, "Hello?", by="rita")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "left_circle"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_text"),
        ("   \n ", "empty_text"),
        ("bell \x07", "invalid_text"),
        ("nul \x00 byte", "invalid_text"),
        ("escape \x1b[31m", "invalid_text"),
        ("c1 \x85", "invalid_text"),
        ("lone \ud800 surrogate", "validation_error"),  # refused by JSON parsing
        ("nonchar \uffff", "invalid_text"),
        ("x" * 4001, "text_too_long"),
    ],
)
async def test_invalid_text_is_refused_with_422(api: Api, text: str, code: str) -> None:
    conversation = await api.direct()
    response = await api.client.post(
        f"/v1/conversations/{conversation}/messages",
        content=json.dumps({"text": text}).encode(),
        headers={**api.headers("rita"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"][0]["field"].endswith("text")


async def test_every_script_and_emoji_is_welcome(api: Api) -> None:
    conversation = await api.direct()
    texts = [
        "👩🏽‍🦳❤️🏳️‍🌈 🫶",
        "Dw i'n iawn, diolch",
        "שלום, מה שלומך?",
        "नमस्ते आप कैसे हैं",
        "line one\nline two\ttabbed",
        "ä" * 4000,
    ]
    for text in texts:
        response = await api.post(conversation, text)
        assert response.status_code == 201, response.text
        assert response.json()["text"] == text


async def test_pages_go_backwards_with_a_cursor(api: Api) -> None:
    conversation = await api.direct()
    for n in range(1, 8):
        assert (await api.post(conversation, f"message {n}")).status_code == 201
    url = f"/v1/conversations/{conversation}/messages"
    first = await api.client.get(url, params={"limit": 3}, headers=api.headers("dana"))
    assert [m["seq"] for m in first.json()["items"]] == [7, 6, 5]
    cursor = first.json()["next_cursor"]
    second = await api.client.get(
        url, params={"limit": 3, "before": cursor}, headers=api.headers("dana")
    )
    assert [m["seq"] for m in second.json()["items"]] == [4, 3, 2]
    bad = await api.client.get(url, params={"before": "nonsense"}, headers=api.headers("dana"))
    assert bad.status_code == 400
    too_many = await api.client.get(url, params={"limit": 1000}, headers=api.headers("dana"))
    assert too_many.status_code == 422


async def test_a_retried_send_is_stored_once(api: Api) -> None:
    conversation = await api.direct()
    first = await api.post(conversation, "only once", **{"Idempotency-Key": "k-1"})
    again = await api.post(conversation, "only once", **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


async def test_authors_edit_and_delete_within_the_window(api: Api) -> None:
    conversation = await api.direct()
    message = (await api.post(conversation, "I am fine")).json()
    url = f"/v1/conversations/{conversation}/messages/{message['id']}"
    not_author = await api.client.patch(url, json={"text": "x"}, headers=api.headers("dana"))
    assert not_author.status_code == 403
    edited = await api.client.patch(
        url, json={"text": "I am fine, really"}, headers=api.headers("rita")
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["text"] == "I am fine, really"
    assert "history" not in edited.json()  # edit history is for staff only
    api.clock.advance(16 * 60)
    late = await api.client.patch(url, json={"text": "again"}, headers=api.headers("rita"))
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "edit_window_closed"
    second = (await api.post(conversation, "oops")).json()
    deleted = await api.client.delete(
        f"/v1/conversations/{conversation}/messages/{second['id']}", headers=api.headers("rita")
    )
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True and deleted.json()["text"] is None
    events = [e["type"] for e in await api.message_events()]
    assert events.count("chat.message.edited") == 2


async def test_staff_see_the_edit_history(api: Api) -> None:
    conversation = await api.direct("pat", "rita")
    message = (await api.post(conversation, "first words")).json()
    url = f"/v1/conversations/{conversation}/messages/{message['id']}"
    await api.client.patch(url, json={"text": "second words"}, headers=api.headers("rita"))
    staff_view = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("pat")
    )
    item = staff_view.json()["items"][0]
    assert [h["text"] for h in item["history"]] == ["first words"]
    own_view = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("rita")
    )
    assert "history" not in own_view.json()["items"][0]


async def test_read_markers_and_unread_counts(api: Api) -> None:
    conversation = await api.direct()
    for n in range(3):
        await api.post(conversation, f"m{n}")
    listed = await api.client.get("/v1/conversations", headers=api.headers("dana"))
    assert listed.json()["items"][0]["unread"] == 3
    read = await api.client.post(
        f"/v1/conversations/{conversation}/read", json={"seq": 2}, headers=api.headers("dana")
    )
    assert read.status_code == 200, read.text
    assert read.json()["unread"] == 1
    past = await api.client.post(
        f"/v1/conversations/{conversation}/read", json={"seq": 9}, headers=api.headers("dana")
    )
    assert past.status_code == 422
    latest = await api.client.post(
        f"/v1/conversations/{conversation}/read", headers=api.headers("dana")
    )
    assert latest.json()["read_seq"] == 3


async def test_groups_are_made_by_staff(api: Api) -> None:
    made = await api.client.post(
        "/v1/conversations",
        json={"kind": "group", "members": ["rita", "ron", "dana"], "title": "Tuesday knitting"},
        headers=api.headers("pat"),
    )
    assert made.status_code == 201, made.text
    group = made.json()["id"]
    assert (await api.post(group, "See you Tuesday", by="ron")).status_code == 201
    refused = await api.client.post(
        "/v1/conversations",
        json={"kind": "group", "members": ["rita"]},
        headers=api.headers("dana"),
    )
    assert refused.status_code == 403
    unknown = await api.client.post(
        "/v1/conversations",
        json={"kind": "group", "members": ["nobody-here"]},
        headers=api.headers("pat"),
    )
    assert unknown.status_code == 422
    outsider = await api.client.get(f"/v1/conversations/{group}", headers=api.headers("carl"))
    assert outsider.status_code == 404


@pytest.mark.parametrize("caller", ["carl", "ron", "sam", "sue", "pat"])
async def test_outsiders_never_find_a_conversation(api: Api, caller: str) -> None:
    conversation = await api.direct()
    message = (await api.post(conversation, "private")).json()
    base = f"/v1/conversations/{conversation}"
    h = api.headers(caller)
    calls = [
        api.client.get(base, headers=h),
        api.client.get(f"{base}/messages", headers=h),
        api.client.post(f"{base}/messages", json={"text": "hi"}, headers=h),
        api.client.patch(f"{base}/messages/{message['id']}", json={"text": "x"}, headers=h),
        api.client.delete(f"{base}/messages/{message['id']}", headers=h),
        api.client.post(f"{base}/read", headers=h),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "conversation_not_found"


async def test_requests_need_a_valid_token(api: Api) -> None:
    assert (await api.client.get("/v1/conversations")).status_code == 401
    bad = await api.client.get("/v1/conversations", headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401
    unknown_field = await api.client.post(
        "/v1/conversations", json={"with_user_id": "dana", "x": 1}, headers=api.headers("rita")
    )
    assert unknown_field.status_code == 422
    bad_id = await api.client.get("/v1/conversations/..%2F..", headers=api.headers("rita"))
    assert bad_id.status_code in (404, 422)
    not_json = await api.client.post(
        "/v1/conversations",
        content=b"{nope",
        headers={**api.headers("rita"), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
