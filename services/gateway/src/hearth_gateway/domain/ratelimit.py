"""Token-bucket rate limits keyed by client IP or user.

Each key owns a bucket of `burst` tokens refilled at `rate` tokens per second; a request
takes one token or is refused with the seconds until one is available. Buckets are kept in
a bounded, least-recently-used table so a flood of distinct keys cannot exhaust memory:
an evicted bucket was idle longest and comes back full, which only ever errs towards
letting a request through.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketPolicy:
    rate: float  # tokens added per second
    burst: int  # bucket capacity

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the next token, when refused
    remaining: int = 0

    @property
    def retry_after_header(self) -> str:
        """Whole seconds for the Retry-After header, never 0 when refused."""
        return str(max(1, math.ceil(self.retry_after)))


ALLOWED = Decision(True)


class RateLimiter:
    """Buckets for one policy; `take(key, now)` is O(1) and never blocks."""

    __slots__ = ("_buckets", "_max_keys", "policy")

    def __init__(self, policy: BucketPolicy, *, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        self.policy = policy
        self._max_keys = max_keys
        # key -> [tokens, last refill time]
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def take(self, key: str, now: float, cost: float = 1.0) -> Decision:
        policy = self.policy
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = [float(policy.burst), now]
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = now - bucket[1]
            if elapsed > 0:
                bucket[0] = min(float(policy.burst), bucket[0] + elapsed * policy.rate)
                bucket[1] = now
        if bucket[0] >= cost:
            bucket[0] -= cost
            return Decision(True, 0.0, int(bucket[0]))
        return Decision(False, (cost - bucket[0]) / policy.rate, 0)

    def __len__(self) -> int:
        return len(self._buckets)
