"""Capped exponential back-off, the one definition every retry loop uses (database busy, WeChat's -1, deliveries).

It lives at the lowest layer so the storage code (waiting for SQLite's write lock) can use it as well as the bot.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Backoff:
    """Delays `first`, `first·factor`, … capped at `cap`; with `jitter`, each is shortened by up to that fraction
    of itself at random (so many clients retrying together spread out)."""

    first: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number `attempt` (1 = the first retry)."""
        capped = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        return capped * (1 - self.jitter * (rng or random).random()) if self.jitter else capped

    def delays(self) -> Iterator[float]:
        """The delays of retries 1, 2, 3, … (endless; the caller decides when to give up)."""
        attempt = 1
        while True:
            yield self.delay(attempt)
            attempt += 1
