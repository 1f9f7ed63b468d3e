"""Token buckets: burst, refill, Retry-After and bounded memory."""

from __future__ import annotations

import pytest

from hearth_gateway.domain.ratelimit import BucketPolicy, Decision, RateLimiter


def test_burst_then_refusal_with_time_to_next_token() -> None:
    limiter = RateLimiter(BucketPolicy(rate=2.0, burst=3))
    assert [limiter.take("ip", 100.0).allowed for _ in range(3)] == [True, True, True]
    refused = limiter.take("ip", 100.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)
    assert refused.retry_after_header == "1"


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    limiter = RateLimiter(BucketPolicy(rate=1.0, burst=2))
    limiter.take("k", 0.0)
    limiter.take("k", 0.0)
    assert not limiter.take("k", 0.5).allowed
    assert limiter.take("k", 1.0).allowed  # one token back after one second
    assert not limiter.take("k", 1.0).allowed
    # A long idle time refills only up to the burst.
    results = [limiter.take("k", 1000.0).allowed for _ in range(3)]
    assert results == [True, True, False]


def test_keys_are_independent() -> None:
    limiter = RateLimiter(BucketPolicy(rate=1.0, burst=1))
    assert limiter.take("a", 0.0).allowed
    assert not limiter.take("a", 0.0).allowed
    assert limiter.take("b", 0.0).allowed


def test_retry_after_header_rounds_up_and_is_never_zero() -> None:
    assert Decision(False, 0.01).retry_after_header == "1"
    assert Decision(False, 4.2).retry_after_header == "5"


def test_clock_going_backwards_does_not_add_tokens() -> None:
    limiter = RateLimiter(BucketPolicy(rate=1.0, burst=1))
    assert limiter.take("k", 10.0).allowed
    assert not limiter.take("k", 5.0).allowed


def test_table_is_bounded_and_evicts_the_longest_idle_key() -> None:
    limiter = RateLimiter(BucketPolicy(rate=0.001, burst=1), max_keys=2)
    limiter.take("old", 0.0)
    limiter.take("recent", 0.0)
    limiter.take("recent", 0.0)  # touch
    limiter.take("new", 0.0)
    assert len(limiter) == 2
    # "old" was evicted: it comes back with a full bucket; "recent" is still empty.
    assert limiter.take("old", 0.0).allowed
    assert not limiter.take("new", 0.0).allowed


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_invalid_policies_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        BucketPolicy(rate=rate, burst=burst)
