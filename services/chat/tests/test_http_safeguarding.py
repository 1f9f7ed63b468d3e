"""Safeguarding over HTTP: council phrases, flags stored and announced with the message
in one write, flagged messages still delivered, reviews and the allow-list."""

from __future__ import annotations

from chat_testkit import Api

from hearth_chat.domain.safeguarding import CATEGORIES, SEVERITIES, baseline_phrases

CATEGORY = CATEGORIES[0]
SEVERITY = SEVERITIES[-1]


async def put_phrases(
    api: Api, phrases: list[dict[str, str]], allow: list[str] | None = None, by: str = "ada"
):  # type: ignore[no-untyped-def]
    return await api.client.put(
        "/v1/safeguarding/phrases",
        json={"phrases": phrases, "allow": allow or []},
        headers=api.headers(by),
    )


async def test_a_matching_message_is_flagged_in_the_same_write_and_still_delivered(
    api: Api,
) -> None:
    saved = await put_phrases(
        api, [{"phrase": "he took my pension", "category": CATEGORY, "severity": SEVERITY}]
    )
    assert saved.status_code == 200, saved.text
    conversation = await api.direct()
    posted = await api.post(conversation, "Dana, HE TOOK my pension again")
    assert posted.status_code == 201, posted.text
    assert "flag" not in posted.json()  # the author is not told
    doc = await api.deps.repos.messages.collection.get("tenant-north", posted.json()["id"])
    assert doc is not None
    types = [e["type"] for e in doc["outbox"]]
    assert types == ["chat.message.posted", "chat.message.flagged"]
    flagged = doc["outbox"][1]["data"]
    assert flagged["matched_phrase"] == "he took my pension"
    assert flagged["severity"] == SEVERITY and flagged["category"] == CATEGORY
    assert "text" not in flagged and "Dana" not in str(flagged)
    delivered = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("dana")
    )
    assert delivered.json()["items"][0]["text"] == "Dana, HE TOOK my pension again"


async def test_baseline_phrases_fire_without_council_lists(api: Api) -> None:
    phrase = baseline_phrases()[0].phrase
    conversation = await api.direct()
    posted = await api.post(conversation, f"I feel like {phrase} today")
    assert posted.status_code == 201
    flags = await api.client.get("/v1/safeguarding/flags", headers=api.headers("pat"))
    assert flags.status_code == 200, flags.text
    assert [f["message"]["id"] for f in flags.json()["items"]] == [posted.json()["id"]]


async def test_an_edit_that_matches_is_flagged_too(api: Api) -> None:
    phrase = baseline_phrases()[0].phrase
    conversation = await api.direct()
    message = (await api.post(conversation, "all fine")).json()
    edited = await api.client.patch(
        f"/v1/conversations/{conversation}/messages/{message['id']}",
        json={"text": f"not fine, {phrase}"},
        headers=api.headers("rita"),
    )
    assert edited.status_code == 200
    types = [e["type"] for e in await api.message_events()]
    assert types.count("chat.message.flagged") == 1


async def test_phrases_are_validated_and_for_council_admins(api: Api) -> None:
    ok = {"phrase": "x marks", "category": CATEGORY, "severity": SEVERITY}
    assert (await put_phrases(api, [ok], by="pat")).status_code == 403
    assert (
        await api.client.get("/v1/safeguarding/phrases", headers=api.headers("pat"))
    ).status_code == 403
    bad_category = await put_phrases(api, [{**ok, "category": "made-up"}])
    assert bad_category.status_code == 422
    assert bad_category.json()["error"]["details"][0]["field"] == "phrases[0]"
    bad_severity = await put_phrases(api, [ok, {**ok, "phrase": "y", "severity": "extreme"}])
    assert bad_severity.status_code == 422
    assert bad_severity.json()["error"]["details"][0]["field"] == "phrases[1]"
    empty = await put_phrases(api, [{**ok, "phrase": ""}])
    assert empty.status_code == 422
    saved = await put_phrases(api, [ok, ok])
    assert saved.status_code == 200
    assert len(saved.json()["phrases"]) == 1  # duplicates kept once
    got = await api.client.get("/v1/safeguarding/phrases", headers=api.headers("ada"))
    assert got.json()["phrases"] == [ok]
    assert got.json()["baseline_count"] == len(baseline_phrases())
    south = await api.client.get("/v1/safeguarding/phrases", headers=api.headers("ada"))
    assert south.status_code == 200


async def test_a_false_positive_stops_the_phrase_firing_in_that_council(api: Api) -> None:
    await put_phrases(api, [{"phrase": "dying to see", "category": CATEGORY, "severity": SEVERITY}])
    conversation = await api.direct()
    first = (await api.post(conversation, "I'm dying to see the grandchildren")).json()
    listed = await api.client.get(
        "/v1/safeguarding/flags", params={"status": "open"}, headers=api.headers("olly")
    )
    assert [f["id"] for f in listed.json()["items"]] == [first["id"]]
    refused = await api.client.post(
        f"/v1/safeguarding/flags/{first['id']}/review",
        json={"outcome": "false_positive"},
        headers=api.headers("dana"),
    )
    assert refused.status_code == 403
    reviewed = await api.client.post(
        f"/v1/safeguarding/flags/{first['id']}/review",
        json={"outcome": "false_positive", "note": "a figure of speech"},
        headers=api.headers("olly"),
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "false_positive"
    again = await api.client.post(
        f"/v1/safeguarding/flags/{first['id']}/review",
        json={"outcome": "confirmed"},
        headers=api.headers("olly"),
    )
    assert again.status_code == 409
    await api.post(conversation, "still dying to see them")
    still_open = await api.client.get(
        "/v1/safeguarding/flags", params={"status": "open"}, headers=api.headers("olly")
    )
    assert still_open.json()["items"] == []
    phrases = await api.client.get("/v1/safeguarding/phrases", headers=api.headers("ada"))
    assert phrases.json()["allow"] == ["dying to see"]
    other_council = await api.client.get("/v1/safeguarding/flags", headers=api.headers("sue"))
    assert other_council.json()["items"] == []
    unknown = await api.client.post(
        "/v1/safeguarding/flags/nope/review",
        json={"outcome": "confirmed"},
        headers=api.headers("olly"),
    )
    assert unknown.status_code == 404
    bad_status = await api.client.get(
        "/v1/safeguarding/flags", params={"status": "maybe"}, headers=api.headers("olly")
    )
    assert bad_status.status_code == 422


async def test_flag_metrics_by_category_and_severity(api: Api) -> None:
    phrase = baseline_phrases()[0]
    conversation = await api.direct()
    await api.post(conversation, phrase.phrase)
    metrics = (await api.client.get("/metrics")).text
    assert (
        f'hearth_chat_messages_flagged_total{{category="{phrase.category}",'
        f'severity="{phrase.severity}",tenant="tenant-north"}} 1.0'
    ) in metrics
    assert "hearth_chat_messages_posted_total" in metrics
