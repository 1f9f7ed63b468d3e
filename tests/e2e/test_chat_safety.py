"""Chat keeping people safe, end to end through the gateway with real processes: a message
saying someone is in danger becomes a safeguarding flag and an alert; a support request
nobody claims calls on-call and tells the person so; a socket needs a good token and is
closed when the person's access is taken away.

Sockets go through two gateway pods, each routed to its own chat pod (see test_chat_flow).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from support.care import list_alerts
from support.chat import (
    ChatSocket,
    Pods,
    flag_of,
    history,
    post_message,
    refused,
    refused_by_chat,
    request_support,
    start_direct,
    two_pods,
    wait_for_flag,
)
from support.councils import Council, Person, join_circle, new_council, platform_token
from support.surface import error_of, wait_for

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack

# From a message or an unanswered request to its alert: outbox, broker, alerts' consumer.
ALERT_WITHIN = 60.0
# Chat's smallest target for answering a support request (seconds).
SHORTEST_TARGET = 5
DANGER = "I can't get up off the kitchen floor"  # baseline list: falls_medical, critical


@pytest.fixture(scope="module")
def pods(stack: Stack) -> Iterator[Pods]:
    with two_pods(stack) as started:
        yield started


@pytest.fixture
def family(http: httpx.Client, demo: SeedResult) -> tuple[Council, Person, Person, str]:
    council = new_council(http, demo, "chatsafe")
    resident = council.add("resident", name="Rose Resident")
    daughter = join_circle(council, resident, "family")
    return council, resident, daughter, start_direct(http, daughter, resident)


def alert_about(council: Council, source: str, **refs: str) -> dict[str, Any] | None:
    return next(
        (
            a
            for a in list_alerts(council, council.admin)
            if a["source"] == source and all(a["refs"].get(k) == v for k, v in refs.items())
        ),
        None,
    )


# ---- safeguarding -------------------------------------------------------------------------
def test_a_message_saying_someone_is_in_danger_becomes_a_flag_and_an_alert(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    council, resident, daughter, conversation = family
    admin = council.admin
    with (
        ChatSocket.ready(pods.first, daughter) as dana,
        ChatSocket.ready(pods.second, resident) as rose,
    ):
        dana.subscribe(conversation)
        sent = rose.say(conversation, DANGER)
        # A flagged message still reaches the family: a person in danger must reach them.
        [arrived] = dana.messages(conversation, 1)
        assert (arrived["id"], arrived["text"]) == (sent["id"], DANGER)
        # The flag is for staff: the family and the author do not see it.
        assert "flag" not in sent and "flag" not in arrived

    alert = wait_for(
        lambda: alert_about(council, "message_flagged", message_id=sent["id"]),
        within=ALERT_WITHIN,
        what="the alert about the flagged message",
    )
    assert alert["resident_id"] == resident.id
    assert alert["severity"] == "critical"
    assert alert["refs"]["conversation_id"] == conversation
    assert alert["refs"]["category"] == "falls_medical"
    # The alert carries ids and facts, not what the person wrote.
    assert "kitchen floor" not in json.dumps(alert)

    flag = wait_for_flag(http, admin, sent["id"])
    assert (flag["status"], flag["category"], flag["severity"]) == (
        "open",
        "falls_medical",
        "critical",
    )
    assert flag["matched_phrase"] == "can't get up"
    assert flag["message"]["text"] == DANGER
    assert flag["message"]["author_id"] == resident.id

    # Staff review it: she was describing a yoga class, a false positive.
    reviewed = http.post(
        f"/v1/safeguarding/flags/{sent['id']}/review",
        json={"outcome": "false_positive", "note": "Talking about her yoga class"},
        headers=admin.auth,
    )
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert (body["status"], body["reviewed_by"]) == ("false_positive", admin.id)
    assert body["note"] == "Talking about her yoga class"
    again = http.post(
        f"/v1/safeguarding/flags/{sent['id']}/review",
        json={"outcome": "confirmed"},
        headers=admin.auth,
    )
    assert again.status_code == 409, again.text
    assert error_of(again)["code"] == "reviewed"

    def listed(status: str) -> set[str]:
        response = http.get("/v1/safeguarding/flags", params={"status": status}, headers=admin.auth)
        assert response.status_code == 200, response.text
        return {f["id"] for f in response.json()["items"]}

    assert sent["id"] in listed("false_positive")
    assert sent["id"] not in listed("open")
    # A false positive stops that phrase firing in this council (through the same pod,
    # which applies the council's new list at once).
    phrases = http.get("/v1/safeguarding/phrases", headers=admin.auth)
    assert "can't get up" in phrases.json()["allow"]
    repeated = post_message(http, resident, conversation, DANGER)
    assert flag_of(http, admin, repeated["id"]) is None


# ---- live support -------------------------------------------------------------------------
def test_an_unclaimed_support_request_calls_on_call_and_tells_the_resident(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    council, resident, _, _ = family
    target = http.put(
        "/v1/support/settings", json={"target_seconds": SHORTEST_TARGET}, headers=council.admin.auth
    )
    assert target.status_code == 200, target.text
    assert target.json() == {"target_seconds": SHORTEST_TARGET}

    request = request_support(http, resident, urgency="urgent", text="Could someone ring me")
    assert (request["status"], request["target_seconds"]) == ("waiting", SHORTEST_TARGET)
    conversation = request["conversation_id"]
    with ChatSocket.ready(pods.second, resident) as rose:
        rose.subscribe(conversation, after_seq=0)
        [first] = rose.messages(conversation, 1)
        assert first["text"] == "Could someone ring me"

        # Nobody claims it: on-call is called through alerts...
        alert = wait_for(
            lambda: alert_about(council, "support_unanswered", request_id=request["id"]),
            within=SHORTEST_TARGET + ALERT_WITHIN,
            what="the alert about the unanswered support request",
        )
        assert alert["resident_id"] == resident.id
        assert int(alert["refs"]["waited_seconds"]) >= SHORTEST_TARGET
        # ...and the resident is told, in plain words, in their conversation.
        [notice] = rose.messages(conversation, 1)
        assert (notice["kind"], notice["author_id"]) == ("system", "system")
        assert notice["text"].startswith("Nobody has answered yet, so we have called")

        seen = http.get(f"/v1/support/requests/{request['id']}", headers=resident.auth).json()
        assert seen["status"] == "waiting" and seen["escalated_at"] is not None

        # A member of staff then picks it up, and the resident hears that too.
        oncall = council.add("oncall", name="Olive Oncall")
        claimed = http.post(f"/v1/support/requests/{request['id']}/claim", headers=oncall.auth)
        assert claimed.status_code == 200, claimed.text
        [joined] = rose.messages(conversation, 1)
        assert joined["text"] == "A member of staff has joined the conversation."
        post_message(http, oncall, conversation, "Hello Rose, Olive here. Ringing you now.")
        [answer] = rose.messages(conversation, 1)
        assert answer["author_id"] == oncall.id

    texts = [m["text"] for m in history(http, resident, conversation) if m["kind"] == "system"]
    assert len([t for t in texts if t.startswith("Nobody has answered yet")]) == 1


def subscribe_answer(gateway: str, person: Person, conversation: str) -> tuple[str, str | None]:
    """(frame type, error code) of a fresh socket's subscription to a conversation."""
    with ChatSocket.ready(gateway, person) as socket:
        socket.send({"type": "subscribe", "conversations": [{"id": conversation}], "ref": "s"})
        answer = socket.next_answer_any("s")
        return answer["type"], answer.get("code")


# ---- tokens and access --------------------------------------------------------------------
def _decode(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _decode(header), _decode(payload), signature


def _encode(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_a_socket_needs_a_good_token(
    http: httpx.Client, demo: SeedResult, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    _, _, daughter, _ = family
    header, claims, signature = _segments(daughter.token)
    elevated = f"{_encode(header)}.{_encode({**claims, 'roles': ['council_admin']})}.{signature}"
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=header)
    bad = {
        "no token": (None, "unauthenticated"),
        "not a token": ("not-a-token", "invalid_token"),
        "claims changed after signing": (elevated, "invalid_token"),
        "signed by a key identity never published": (forged, "invalid_token"),
    }
    for gateway in (pods.first, pods.second):
        for case, (token, code) in bad.items():
            for in_query in (False, True):
                status, body = refused(gateway, token, in_query=in_query)
                assert status == 401, (case, in_query, body)
                assert body["error"]["code"] == code, (case, body)
    # The same person's real token works, in a header or (as browsers send it) the query.
    with ChatSocket.open(pods.second, daughter, in_query=True) as socket:
        assert socket.next("ready")["user_id"] == daughter.id
    # A good token of a role that does not chat: the gateway lets it by, chat says why.
    with ChatSocket.open(pods.first, platform_token(http, demo)) as socket:
        error = socket.next("error")
        assert error["message"] == "your role does not use chat"
        assert socket.closed() == (4403, "your role does not use chat")


def test_a_socket_is_closed_when_access_is_taken_away(
    stack: Stack, http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    council, resident, daughter, conversation = family
    carer = join_circle(council, resident, "carer")
    with (
        ChatSocket.ready(pods.first, resident) as rose,
        ChatSocket.ready(pods.second, daughter) as dana,
        ChatSocket.ready(pods.first, carer) as carl,
    ):
        rose.subscribe(conversation)
        dana.subscribe(conversation)
        # The resident takes her daughter out of her circle of support: the daughter's
        # socket, held by the other chat pod, is closed at once.
        removed = http.delete(
            f"/v1/residents/{resident.id}/circle/{daughter.id}", headers=resident.auth
        )
        assert removed.status_code == 204, removed.text
        assert dana.closed(within=30) == (4403, "your access changed")
        rose.ping()  # the resident's own socket stays open

        # Her token is still valid (short-lived), but the conversation is gone for her
        # once chat has recorded the change (its record of circles follows identity's
        # events a moment after the socket is closed).
        wait_for(
            lambda: (
                subscribe_answer(pods.second, daughter, conversation)
                == ("error", "conversation_not_found")
            ),
            within=30,
            what="chat to refuse the conversation to the person who left the circle",
        )
        # The resident keeps the history but cannot write to someone no longer in her circle.
        rose.send({"type": "send", "conversation_id": conversation, "text": "Hello?", "ref": "h"})
        assert rose.next("error", ref="h")["code"] == "left_circle"

        # An administrator deactivates the carer's account: chat hears of it and closes
        # the carer's socket at once, without waiting for the token to expire.
        deactivated = httpx.post(
            f"{stack.gateway_url}/v1/users/{carer.id}/deactivate",
            headers=council.admin.auth,
            timeout=30,
        )
        assert deactivated.status_code == 200, deactivated.text
        assert carl.closed(within=30) == (4403, "your access changed")

    # The carer's token is still valid, but chat lets them back in through neither pod:
    # at once through the pod that closed the socket, and through the other as soon as
    # its own feed has heard. Deactivation also ends the carer's sign-ins, so either
    # reason may be the one a pod heard first.
    refusals = {
        ("forbidden", 4403, "your access changed"),
        ("unauthenticated", 4401, "access token refused: revoked"),
    }
    assert refused_by_chat(pods.first, carer) in refusals
    wait_for(
        lambda: refused_by_chat(pods.second, carer) in refusals,
        within=30,
        what="the other chat pod to refuse the deactivated carer's token",
    )


def test_signing_out_closes_that_sign_ins_socket(
    http: httpx.Client, pods: Pods, family: tuple[Council, Person, Person, str]
) -> None:
    council, resident, daughter, conversation = family
    tokens = council.sign_in(daughter.email)
    on_tablet = Person(
        daughter.id, daughter.email, daughter.role, tokens["access_token"], tokens["refresh_token"]
    )
    with (
        ChatSocket.ready(pods.second, daughter) as phone,
        ChatSocket.ready(pods.first, on_tablet) as tablet,
    ):
        phone.subscribe(conversation)
        tablet.subscribe(conversation)
        # She signs out on her phone: that socket closes, on whichever pod holds it.
        out = http.post("/v1/auth/logout", json={"refresh_token": daughter.refresh_token})
        assert out.status_code == 204, out.text
        assert phone.closed(within=30) == (4401, "signed out; sign in again")
        # Her tablet is another sign-in: it stays, and still hears her mother.
        resident_said = http.post(
            f"/v1/conversations/{conversation}/messages",
            json={"text": "Are you still there, love?"},
            headers=resident.auth,
        )
        assert resident_said.status_code == 201, resident_said.text
        assert tablet.next("message")["message"]["text"] == "Are you still there, love?"

    # The phone's access token has minutes left, but neither pod lets it back in.
    refusal = ("unauthenticated", 4401, "access token refused: revoked")
    for pod in (pods.first, pods.second):
        wait_for(
            lambda pod=pod: refused_by_chat(pod, daughter) == refusal,  # type: ignore[misc]
            within=30,
            what="chat to refuse a signed-out session's token",
        )
