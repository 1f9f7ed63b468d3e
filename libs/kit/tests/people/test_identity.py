"""Asking identity over HTTP about a user or a circle: answers, refusals and failures."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from hearth_kit.people import CircleMember, Person
from hearth_kit.people.identity import HttpIdentityLookup, IdentityUnavailable

Answer = Callable[[httpx.Request], httpx.Response]


def lookup_answering(answer: Answer) -> HttpIdentityLookup:
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return HttpIdentityLookup("http://identity:8001/", client=client)


async def test_a_known_user_with_the_callers_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "rita", "role": "resident", "status": "active"})

    lookup = lookup_answering(answer)
    assert await lookup.user("rita", token="tok") == Person("rita", "resident", True)
    assert str(seen[0].url) == "http://identity:8001/v1/users/rita"
    assert seen[0].headers["authorization"] == "Bearer tok"
    await lookup.stop()


@pytest.mark.parametrize("status", [403, 404, 422])
async def test_refused_or_unknown_is_nobody(status: int) -> None:
    lookup = lookup_answering(lambda r: httpx.Response(status, json={}))
    assert await lookup.user("x", token="t") is None
    assert await lookup.circle("x", token="t") is None


async def test_a_deactivated_user_is_inactive() -> None:
    body = {"id": "rita", "role": "resident", "status": "deactivated"}
    lookup = lookup_answering(lambda r: httpx.Response(200, json=body))
    assert await lookup.user("rita", token="t") == Person("rita", "resident", False)


async def test_a_circle_lists_its_members_and_skips_odd_entries() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        members = [
            {"member_id": "dana", "role": "family", "relationship": "family"},
            {"member_id": "carl", "role": 7},
            {"role": "carer"},
            "not an object",
        ]
        return httpx.Response(200, json={"resident_id": "rita", "members": members})

    lookup = lookup_answering(answer)
    assert await lookup.circle("rita", token="t") == [
        CircleMember("dana", "family", "family"),
        CircleMember("carl", None, None),
    ]
    assert seen == ["http://identity:8001/v1/residents/rita/circle"]


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(500, json={}),
        lambda r: httpx.Response(200, json={"id": "someone-else", "role": "resident"}),
        lambda r: httpx.Response(200, json=["not", "an", "object"]),
        lambda r: httpx.Response(200, content=b"<html>"),
    ],
)
async def test_odd_user_answers_mean_identity_is_unavailable(answer: Answer) -> None:
    with pytest.raises(IdentityUnavailable):
        await lookup_answering(answer).user("rita", token="t")


@pytest.mark.parametrize(
    "body",
    [{"resident_id": "ron", "members": []}, {"resident_id": "rita", "members": "none"}],
)
async def test_another_circle_means_identity_is_unavailable(body: dict[str, object]) -> None:
    lookup = lookup_answering(lambda r: httpx.Response(200, json=body))
    with pytest.raises(IdentityUnavailable):
        await lookup.circle("rita", token="t")


async def test_unreachable_identity_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(IdentityUnavailable):
        await lookup_answering(down).user("rita", token="t")
