"""Sign-in throttling: a few free failures, then exponential backoff up to a ceiling.

Throttles are keyed by (tenant slug, email) whether or not the account exists, so a
lock reveals nothing about which addresses are registered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LockoutPolicy:
    free_attempts: int = 5
    base_seconds: float = 30.0
    max_seconds: float = 900.0
    # Failures older than this are forgotten.
    reset_after_seconds: float = 3600.0

    def lock_seconds(self, failures: int) -> float:
        """How long to lock after `failures` consecutive failures (0: not locked)."""
        if failures < self.free_attempts:
            return 0.0
        exponent = min(failures - self.free_attempts, 30)
        return float(min(self.max_seconds, self.base_seconds * 2**exponent))


@dataclass
class LoginThrottle:
    failures: int = 0
    locked_until: float = 0.0
    last_failure_at: float = 0.0

    def retry_after(self, now: float) -> float | None:
        """Seconds to wait before another attempt is even checked, or None if free to try."""
        if self.locked_until > now:
            return self.locked_until - now
        return None

    def record_failure(self, now: float, policy: LockoutPolicy) -> None:
        if self.failures and now - self.last_failure_at > policy.reset_after_seconds:
            self.failures = 0
        self.failures += 1
        self.last_failure_at = now
        lock = policy.lock_seconds(self.failures)
        self.locked_until = now + lock if lock else 0.0

    def record_success(self) -> None:
        self.failures = 0
        self.locked_until = 0.0
        self.last_failure_at = 0.0

    @property
    def is_clean(self) -> bool:
        return self.failures == 0 and not self.locked_until

    def forget_at(self, policy: LockoutPolicy) -> float:
        """When nothing of this throttle matters any more (for expiry)."""
        return max(self.locked_until, self.last_failure_at + policy.reset_after_seconds)
