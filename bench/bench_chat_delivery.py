"""Chat delivery latency: a message sent on one WebSocket until the other person's socket
receives it, at a steady rate, with the broker, identity, chat (two replicas) and the
gateway running as real processes.

A resident sends `--messages` messages per path at `--rate` per second to an on-call
member of staff in their direct conversation; each latency is from handing the `send`
frame to the socket until the receiver reads the `message` frame (one clock: both ends
are here). The paths take turns within each of `--rounds` rounds, on one stack:
1. floor: a raw `websockets` relay in this process speaking the same frames (what one
   WebSocket hop in and out costs on this machine, client work included);
2. direct: both people connected to chat replica 0;
3. gateway: both through the gateway (two proxy hops: sender's and receiver's);
4. cross-replica: sender on chat replica 0, receiver on replica 1 (the message reaches
   replica 1 through the outbox, Kafka and its replica feed);
5. cross-replica with the sender through the gateway (a client's usual path).
Chat's per-connection frame limit (CHAT_WS_FRAMES_PER_SECOND, 5/s by default) is raised
for the bench so that a steady 20/s sender is not refused.

    uv run python bench/bench_chat_delivery.py [--quick] [--messages N] [--rate R] [--rounds K]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_stack import (
    CHAT_FRAMES_PER_SECOND,
    MS_TABLE,
    SUBPROTOCOL,
    ChatPair,
    ChatSocket,
    chat_pair,
    chat_stack,
    paced,
    ws_url,
)
from common import pct, wait_until

SERVICES = ("identity", "chat", "gateway")
WARM_UP = 20  # messages per path before timing: connections, caches, code paths
DELIVERY_TIMEOUT = 60.0


async def measure(
    label: str,
    sender_url: str,
    receiver_url: str,
    pair: ChatPair,
    messages: int,
    rate: float,
) -> list[float]:
    """Seconds from send to receipt for `messages` messages sent at `rate` per second."""
    sender = await ChatSocket.open(sender_url, pair.resident.token)
    receiver = await ChatSocket.open(receiver_url, pair.staff.token)
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}

    def received(text: str, at: float) -> None:
        arrived.setdefault(text.rsplit(" ", 1)[-1], at)

    async def send_one(ref: str) -> None:
        sent[ref] = time.perf_counter()
        await sender.send(pair.conversation_id, f"delivery check {ref}", ref)

    async def run(refs: Sequence[str]) -> None:
        tasks: list[asyncio.Future[None]] = []
        await paced(
            len(refs), rate, lambda i: tasks.append(asyncio.ensure_future(send_one(refs[i])))
        )
        await asyncio.gather(*tasks)
        try:
            await wait_until(lambda: all(r in arrived for r in refs), DELIVERY_TIMEOUT, label)
        except TimeoutError:
            lost = sum(r not in arrived for r in refs)
            raise RuntimeError(
                f"{label}: {lost} of {len(refs)} messages never arrived; "
                f"sender errors: {sender.errors[:3]}, receiver errors: {receiver.errors[:3]}"
            ) from None

    try:
        receiver.on_message = received
        await receiver.subscribe(pair.conversation_id)
        run_id = uuid.uuid4().hex[:8]
        await run([f"w{run_id}-{i}" for i in range(WARM_UP)])
        refs = [f"m{run_id}-{i}" for i in range(messages)]
        await run(refs)
        if sender.errors or receiver.errors:
            raise RuntimeError(f"{label}: errors {sender.errors[:3]} {receiver.errors[:3]}")
        return [arrived[r] - sent[r] for r in refs]
    finally:
        await sender.close()
        await receiver.close()


class Relay:
    """The floor: chat's frames answered with no store, no checks and no other process."""

    def __init__(self) -> None:
        self.followers: set[ServerConnection] = set()

    async def __call__(self, ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "ready"}))
        try:
            async for raw in ws:
                await self.handle(ws, json.loads(raw))
        finally:
            self.followers.discard(ws)

    async def handle(self, ws: ServerConnection, frame: dict[str, Any]) -> None:
        if frame["type"] == "subscribe":
            self.followers.add(ws)
            conversation = frame["conversations"][0]["id"]
            await ws.send(json.dumps({"type": "subscribed", "conversation_id": conversation}))
        elif frame["type"] == "send":
            message = {"text": frame["text"]}
            out = json.dumps(
                {"type": "message", "conversation_id": frame["conversation_id"], "message": message}
            )
            for follower in list(self.followers):
                await follower.send(out)
            await ws.send(json.dumps({"type": "ack", "ref": frame.get("ref")}))


PATHS = {
    "floor": "floor: raw websockets relay in this process",
    "direct": "direct: both on chat replica 0",
    "gateway": "gateway: both through the gateway (2 proxy hops)",
    "cross": "cross-replica: chat 0 -> Kafka -> chat 1, direct",
    "cross_gateway": "cross-replica, sender through the gateway",
}
Rounds = list[dict[str, list[float]]]


async def run(
    ends: dict[str, tuple[str, str]], pair: ChatPair, per_round: int, rate: float, rounds: int
) -> Rounds:
    async with serve(Relay(), "127.0.0.1", 0, subprotocols=[Subprotocol(SUBPROTOCOL)]) as server:
        floor = ws_url(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        ends = {"floor": (floor, floor), **ends}
        # Paths take turns within each round, so drift in the machine's load over the run
        # biases none of them.
        results: Rounds = []
        for number in range(1, rounds + 1):
            print(f"round {number}/{rounds}", flush=True)
            results.append(
                {
                    name: await measure(name, sender, receiver, pair, per_round, rate)
                    for name, (sender, receiver) in ends.items()
                }
            )
        return results


def report(results: Rounds) -> None:
    print()
    print(MS_TABLE.header())
    for name, label in PATHS.items():
        print(MS_TABLE.row(label, [x for r in results for x in r[name]]))

    def added(name: str, base: str) -> tuple[float, float]:
        """Median over rounds of the p50 difference (ms) and ratio against `base`."""
        diffs = [(pct(r[name], 50) - pct(r[base], 50)) * 1000 for r in results]
        ratios = [pct(r[name], 50) / pct(r[base], 50) for r in results]
        return statistics.median(diffs), statistics.median(ratios)

    print(f"\nat p50 (median over {len(results)} round(s) of the within-round comparison):")
    diff, ratio = added("direct", "floor")
    print(f"  chat over the raw relay:           +{diff:.1f} ms ({ratio:.1f}x)")
    diff, ratio = added("gateway", "direct")
    print(f"  gateway, both proxy hops:          {diff:+.1f} ms ({ratio:.2f}x direct)")
    diff, ratio = added("cross", "direct")
    print(f"  cross-replica (outbox, Kafka, feed): {diff:+.1f} ms ({ratio:.2f}x direct)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 messages per path, 1 round")
    parser.add_argument("--messages", type=int, default=None, help="per path (default 600)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    args = parser.parse_args()
    messages = args.messages or (100 if args.quick else 600)
    rounds = args.rounds or (1 if args.quick else 3)
    if messages < 1 or rounds < 1 or not 0 < args.rate <= CHAT_FRAMES_PER_SECOND:
        parser.error(f"messages, rounds >= 1 and 0 < rate <= {CHAT_FRAMES_PER_SECOND}")
    per_round = max(1, messages // rounds)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-chat-") as folder:
        print(f"starting broker, {', '.join(SERVICES)} ...", flush=True)
        with chat_stack(Path(folder), SERVICES) as stack:
            print("starting chat replica 1 ...", flush=True)
            second = stack.start_replica("chat")
            pair = chat_pair(stack)
            gateway = ws_url(stack.gateway_url)
            chat0, chat1 = ws_url(stack.url("chat")), ws_url(stack.url("chat", second))
            print(
                f"{per_round} messages at {args.rate:g}/s per path per round, {rounds} "
                f"round(s), {WARM_UP} untimed first; chat's frame limit raised to "
                f"{CHAT_FRAMES_PER_SECOND}/s per connection (CHAT_WS_FRAMES_PER_SECOND)",
                flush=True,
            )
            ends = {
                "direct": (chat0, chat0),
                "gateway": (gateway, gateway),
                "cross": (chat0, chat1),
                "cross_gateway": (gateway, chat1),
            }
            report(asyncio.run(run(ends, pair, per_round, args.rate, rounds)))


if __name__ == "__main__":
    main()
