"""Gateway cost: an authenticated GET /v1/me through the gateway against the same request
sent straight to identity, in one run, on one stack (broker, identity, gateway processes).

Load comes from a bounded generator: N keep-alive connections sending a fixed number of
requests over raw sockets (parsed with httptools) so the client costs little CPU next to
the servers. Rounds alternate direct/gateway and the median round is reported:
- latency: one connection, one request at a time (p50/p99; the p50 difference is the
  gateway's cost per request);
- throughput: C connections (requests/s; gateway/direct is the ratio that matters).
The summary compares direct and gateway within each round (they run back to back) and
takes the median over rounds, so other work on the machine biases neither side.
CPU time per request of each process (from /proc) explains where the time goes.
Also: TokenVerifier.verify per call with and without its cache, on identity's real token.

    uv run python -m bench.bench_gateway [--quick] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httptools
import httpx

from hearth_devstack.seed import login
from hearth_devstack.stack import Stack
from hearth_devstack.testing import running_stack
from hearth_kit.auth import HttpJwksSource, TokenVerifier

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct

# The bench sends thousands of requests from one address as one user.
UNLIMITED = {
    "GATEWAY_IP_RATE": "1000000",
    "GATEWAY_IP_BURST": "1000000",
    "GATEWAY_USER_RATE": "1000000",
    "GATEWAY_USER_BURST": "1000000",
    "GATEWAY_LOG_LEVEL": "WARNING",
}
AIM_OVERHEAD_MS = 1.0
AIM_RATIO = 0.70


@dataclass(frozen=True)
class Sizes:
    latency_requests: int
    throughput_requests: int
    rounds: int
    verify_calls: int


FULL = Sizes(latency_requests=2_000, throughput_requests=6_000, rounds=5, verify_calls=20_000)
QUICK = Sizes(latency_requests=400, throughput_requests=1_500, rounds=3, verify_calls=2_000)


# ---------------------------------------------------------------- load generator
@dataclass
class Load:
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    errors: int = 0

    def ms(self, q: float) -> float:
        return pct(self.latencies_ns, q) / 1e6

    @property
    def rps(self) -> float:
        return len(self.latencies_ns) / self.elapsed


class _Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("connection lost"))


async def run_load(url: str, path: str, token: str, total: int, concurrency: int) -> Load:
    """`total` GETs over `concurrency` keep-alive connections, as fast as answers come."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    result = Load()
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        _, client = await loop.create_connection(_Client, host, int(port))
        assert client.transport is not None
        try:
            while remaining > 0:
                remaining -= 1
                client.done = loop.create_future()
                start = time.perf_counter_ns()
                client.transport.write(request)
                try:
                    status = await client.done
                except ConnectionError:
                    result.errors += 1
                    return
                result.latencies_ns.append(time.perf_counter_ns() - start)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            client.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- measurement
def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    load: Load
    cpu_us: dict[str, float]  # process -> CPU microseconds per request


async def measure(stack: Stack, url: str, token: str, total: int, concurrency: int) -> Round:
    pids = {name: stack.pid(name) for name in ("identity", "gateway")}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own_before = time.process_time()
    load = await run_load(url, "/v1/me", token, total, concurrency)
    cpu = {name: (cpu_seconds(pid) - before[name]) / total * 1e6 for name, pid in pids.items()}
    cpu["load generator"] = (time.process_time() - own_before) / total * 1e6
    if load.errors or set(load.statuses) != {200}:
        raise RuntimeError(f"unexpected answers from {url}: {load.statuses}, {load.errors} errors")
    return Round(load, cpu)


def median_round(rounds: list[Round], key: Callable[[Round], float]) -> Round:
    ordered = sorted(rounds, key=key)
    return ordered[len(ordered) // 2]


async def verify_cost(jwks_url: str, token: str, calls: int) -> tuple[float, float]:
    """Microseconds per TokenVerifier.verify call with and without the cache."""
    async with httpx.AsyncClient() as client:
        results = []
        for use_cache in (True, False):
            verifier = TokenVerifier(
                HttpJwksSource(jwks_url, client), issuer="hearth-identity", use_cache=use_cache
            )
            await verifier.verify(token)  # keys fetched once, outside the timing
            started = time.perf_counter()
            for _ in range(calls):
                await verifier.verify(token)
            results.append((time.perf_counter() - started) / calls * 1e6)
    return results[0], results[1]


def row(name: str, r: Round) -> str:
    cpu = "  ".join(f"{k} {v:5.0f}" for k, v in r.cpu_us.items() if v > 0)
    return (
        f"  {name:8} {r.load.rps:8.0f} req/s   p50 {r.load.ms(50):6.3f} ms   "
        f"p99 {r.load.ms(99):6.3f} ms   CPU us/req: {cpu}"
    )


async def run(stack: Stack, sizes: Sizes, concurrency: int) -> None:
    creds = stack.seed_demo().credentials
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        token = login(client, creds.users["resident"])
    direct_url, gateway_url = stack.url("identity"), stack.gateway_url
    for url in (direct_url, gateway_url):  # warm up connections, caches and code paths
        await run_load(url, "/v1/me", token, 500, 4)

    latency: dict[str, list[Round]] = {"direct": [], "gateway": []}
    throughput: dict[str, list[Round]] = {"direct": [], "gateway": []}
    for _ in range(sizes.rounds):
        for name, url in (("direct", direct_url), ("gateway", gateway_url)):
            latency[name].append(await measure(stack, url, token, sizes.latency_requests, 1))
            throughput[name].append(
                await measure(stack, url, token, sizes.throughput_requests, concurrency)
            )

    lat = {k: median_round(v, lambda r: r.load.ms(50)) for k, v in latency.items()}
    thr = {k: median_round(v, lambda r: r.load.rps) for k, v in throughput.items()}
    cached_us, uncached_us = await verify_cost(
        stack.url("identity") + "/v1/auth/jwks", token, sizes.verify_calls
    )

    # Each round measures direct then gateway back to back: compare within a round, so
    # drift in the machine's load between rounds does not bias the figures.
    overhead = statistics.median(
        g.load.ms(50) - d.load.ms(50)
        for d, g in zip(latency["direct"], latency["gateway"], strict=True)
    )
    ratio = statistics.median(
        g.load.rps / d.load.rps
        for d, g in zip(throughput["direct"], throughput["gateway"], strict=True)
    )
    print(f"\nGET /v1/me, authenticated ({sizes.rounds} round(s), median round shown)")
    print(f"latency: 1 connection, {sizes.latency_requests} requests")
    print(row("direct", lat["direct"]))
    print(row("gateway", lat["gateway"]))
    print(f"throughput: {concurrency} connections, {sizes.throughput_requests} requests")
    print(row("direct", thr["direct"]))
    print(row("gateway", thr["gateway"]))
    print("token verification (TokenVerifier.verify, EdDSA):")
    print(f"  cached   {cached_us:8.1f} us/call")
    print(f"  uncached {uncached_us:8.1f} us/call")
    print("summary (median over rounds of the within-round comparison):")
    print(
        f"  gateway overhead at p50: {overhead:.3f} ms "
        f"(aim <= {AIM_OVERHEAD_MS:.1f} ms: {'met' if overhead <= AIM_OVERHEAD_MS else 'NOT met'})"
    )
    print(
        f"  throughput ratio gateway/direct: {ratio:.0%} "
        f"(aim >= {AIM_RATIO:.0%}: {'met' if ratio >= AIM_RATIO else 'NOT met'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per round")
    parser.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="hearth-bench-gateway-") as folder:
        print("starting broker, identity and gateway ...", flush=True)
        with running_stack(
            Path(folder), ["identity", "gateway"], service_env={"gateway": UNLIMITED}
        ) as stack:
            try:
                import uvloop

                uvloop.run(run(stack, sizes, args.concurrency))
            except ImportError:
                asyncio.run(run(stack, sizes, args.concurrency))


if __name__ == "__main__":
    main()
