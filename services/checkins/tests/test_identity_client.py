"""Asking identity about a user over HTTP: answers, refusals and failures."""

from __future__ import annotations

import httpx
import pytest

from hearth_checkins.adapters.identity_client import HttpUserLookup, IdentityUnavailable
from hearth_checkins.adapters.repositories import Person


def lookup_answering(handler: httpx.MockTransport) -> HttpUserLookup:
    client = httpx.AsyncClient(transport=handler)
    return HttpUserLookup("http://identity:8001/", client=client)


async def test_a_known_user_with_the_callers_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "rita", "role": "resident", "status": "active"})

    lookup = lookup_answering(httpx.MockTransport(answer))
    assert await lookup("rita", token="tok") == Person("rita", "resident", True)
    assert str(seen[0].url) == "http://identity:8001/v1/users/rita"
    assert seen[0].headers["authorization"] == "Bearer tok"
    await lookup.stop()


@pytest.mark.parametrize("status", [403, 404])
async def test_refused_or_unknown_is_nobody(status: int) -> None:
    lookup = lookup_answering(httpx.MockTransport(lambda r: httpx.Response(status, json={})))
    assert await lookup("x", token="t") is None


async def test_a_deactivated_user_is_inactive() -> None:
    body = {"id": "rita", "role": "resident", "status": "deactivated"}
    lookup = lookup_answering(httpx.MockTransport(lambda r: httpx.Response(200, json=body)))
    assert await lookup("rita", token="t") == Person("rita", "resident", False)


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(500, json={}),
        lambda r: httpx.Response(200, json={"id": "someone-else", "role": "resident"}),
        lambda r: httpx.Response(200, json=["not", "an", "object"]),
    ],
)
async def test_odd_answers_mean_identity_is_unavailable(answer: object) -> None:
    lookup = lookup_answering(httpx.MockTransport(answer))  # type: ignore[arg-type]
    with pytest.raises(IdentityUnavailable):
        await lookup("rita", token="t")


async def test_unreachable_identity_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    lookup = lookup_answering(httpx.MockTransport(down))
    with pytest.raises(IdentityUnavailable):
        await lookup("rita", token="t")
