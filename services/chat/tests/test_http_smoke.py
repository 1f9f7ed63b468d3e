from __future__ import annotations

from chat_testkit import Api


async def test_direct_conversation_roundtrip(api: Api) -> None:
    conversation = await api.direct()
    posted = await api.post(conversation, "Hello love 👋🏽 — привет — مرحبا — 你好")
    assert posted.status_code == 201, posted.text
    assert posted.json()["seq"] == 1
    page = await api.client.get(
        f"/v1/conversations/{conversation}/messages", headers=api.headers("dana")
    )
    assert page.status_code == 200, page.text
    assert [m["text"] for m in page.json()["items"]] == ["Hello love 👋🏽 — привет — مرحبا — 你好"]
