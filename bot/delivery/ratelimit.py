"""A token bucket shared by every sender process, kept in the `delivery_buckets` row.

Each process takes tokens from the row in chunks (about a tenth of a second's worth) in one short transaction
(row lock on PostgreSQL, the write lock on SQLite) and spends them locally, one per WeChat request, spaced by
1/rate so a chunk does not leave as a burst. The bucket
refills at `rate` tokens per second of wall-clock time and holds at most `burst` tokens, so all workers together
send at most `burst + rate·t` messages in any `t` seconds. A rate of 0 turns the limit off.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.delivery_models import DeliveryBucket

BUCKET = "wechat-send"


class RateLimiter:
    def __init__(self, db: Database, rate: float, *, name: str = BUCKET, chunk_seconds: float = 0.1):
        self.db, self.rate, self.name = db, rate, name
        self.chunk = max(1, int(rate * chunk_seconds))
        self.burst = float(self.chunk * 2)
        self._local = 0
        self._next = 0.0
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    async def take(self) -> None:
        """Wait for one token."""
        if not self.enabled:
            return
        async with self._lock:
            while self._local <= 0:
                granted, wait = await self._draw()
                self._local += granted
                if not granted:
                    await asyncio.sleep(wait)
            self._local -= 1
            now = time.monotonic()  # spread a chunk over its time instead of sending it at once
            if self._next > now:
                await asyncio.sleep(self._next - now)
            # late wake-ups are made up for, by at most one chunk's worth of time
            self._next = max(self._next, now - self.chunk / self.rate) + 1 / self.rate

    async def _draw(self) -> tuple[int, float]:
        """Take up to one chunk from the shared row; (granted, seconds to wait when nothing was granted)."""
        now = datetime.now(timezone.utc)
        try:
            async with self.db.transaction() as session:
                query = select(DeliveryBucket).where(DeliveryBucket.name == self.name)
                if not self.db.is_sqlite:
                    query = query.with_for_update()
                row = await session.scalar(query)
                if row is None:
                    session.add(DeliveryBucket(name=self.name, tokens=0.0, updated_at=now))
                    return 0, self.chunk / self.rate
                elapsed = max(0.0, (now - row.updated_at).total_seconds())
                tokens = min(self.burst, row.tokens + elapsed * self.rate)
                granted = int(min(self.chunk, tokens)) if tokens >= max(1.0, self.chunk / 2) else 0
                row.tokens, row.updated_at = tokens - granted, now
                return granted, (self.chunk - tokens) / self.rate
        except IntegrityError:  # another process created the row first
            return 0, 0.0

