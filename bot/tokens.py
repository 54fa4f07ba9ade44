"""The access-token cache shared by every worker process, and a trivial in-memory one for tools.

`DatabaseTokenStore` keeps the token in the `wechat_tokens` row for the appid. Tokens come from the stable-token
endpoint, so a normal refresh never invalidates the token other workers hold. Only one refresher runs at a time
across processes: it takes a lease on the row with a conditional UPDATE (`WHERE version = <read version>`, with
`lease_until` in the past), fetches outside any transaction, then writes the token and clears the lease. Others
poll the row briefly and read the new token. Within a process an asyncio.Lock serialises refreshes, and an
in-memory copy is used until ~5 minutes before expiry. `invalidate(bad)` forces a refresh (force_refresh=True)
only while the stored token is still the bad one: another worker may already have replaced it.
Works on SQLite and PostgreSQL (plain SELECT / INSERT / conditional UPDATE).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound import WeChatUnavailable
from storage.db import unit_of_work
from storage.models import WeChatToken
from storage.repositories import tokens

log = logging.getLogger("linli.tokens")

Fetch = Callable[[bool], Awaitable[tuple[str, int]]]
MARGIN = 300.0  # stop using a token this many seconds before it expires (WeChat refreshes 5 min early)


class TokenUnavailable(WeChatUnavailable):
    """No token could be obtained in time (another worker holds the refresh lease and has not finished)."""


def _fresh_until(now: float, expires_in: float, margin: float) -> float:
    # Never cache for less than half the token's life, even if WeChat hands out a short-lived one.
    return now + max(expires_in - margin, expires_in / 2)


class MemoryTokenStore:
    """One process, no sharing: for tools and scripts."""

    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.time, margin: float = MARGIN):
        self.fetch, self.clock, self.margin = fetch, clock, margin
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._fresh_until = 0.0

    def _cached(self) -> str | None:
        return self._token if self._token and self.clock() < self._fresh_until else None

    async def _refresh(self, force: bool) -> str:
        token, expires_in = await self.fetch(force)
        self._token, self._fresh_until = token, _fresh_until(self.clock(), expires_in, self.margin)
        return token

    async def get(self) -> str:
        async with self._lock:
            return self._cached() or await self._refresh(False)

    async def invalidate(self, bad_token: str) -> str:
        async with self._lock:
            cached = self._cached()
            if cached and cached != bad_token:
                return cached
            return await self._refresh(True)


@dataclass
class _Row:
    token: str | None
    expires_at: float | None
    lease_until: float | None
    version: int


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class DatabaseTokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], appid: str, fetch: Fetch, *,
                 clock: Callable[[], float] = time.time, margin: float = MARGIN, lease_seconds: float = 30.0,
                 poll_interval: float = 0.05, wait_seconds: float | None = None, owner: str | None = None):
        self.sessions, self.appid, self.fetch = sessions, appid, fetch
        self.clock, self.margin = clock, margin
        self.lease_seconds, self.poll_interval = lease_seconds, poll_interval
        # How long to wait for another worker's refresh: past its lease, we take over ourselves.
        self.wait_seconds = lease_seconds + 5 if wait_seconds is None else wait_seconds
        self.owner = (owner or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")[:64]
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._fresh_until = 0.0

    def _cached(self) -> str | None:
        return self._token if self._token and self.clock() < self._fresh_until else None

    async def get(self) -> str:
        cached = self._cached()
        if cached:
            return cached
        async with self._lock:
            return self._cached() or await self._obtain(bad=None)

    async def invalidate(self, bad_token: str) -> str:
        async with self._lock:
            cached = self._cached()
            if cached and cached != bad_token:
                return cached  # another coroutine already replaced it
            self._token = None
            return await self._obtain(bad=bad_token)

    async def _obtain(self, bad: str | None) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while True:
            row = await self._read()
            now = self.clock()
            if row.token and row.token != bad and row.expires_at and row.expires_at - now > self.margin:
                return self._remember(row.token, row.expires_at)
            if (row.lease_until is None or row.lease_until <= now) and await self._take_lease(row.version):
                return await self._refresh(force=bad is not None and row.token == bad)
            if loop.time() > deadline:
                raise TokenUnavailable("等待其他进程刷新 access_token 超时")
            await asyncio.sleep(self.poll_interval)

    def _remember(self, token: str, expires_at: float) -> str:
        now = self.clock()
        self._token, self._fresh_until = token, _fresh_until(now, expires_at - now, self.margin)
        return token

    def _dt(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, timezone.utc)

    async def _read(self) -> _Row:
        try:
            async with unit_of_work(self.sessions) as session:
                row = await tokens.row_for(session, self.appid)
                return _Row(row.access_token, _ts(row.expires_at), _ts(row.lease_until), row.version)
        except IntegrityError:  # another process inserted the row first
            return await self._read()

    async def _take_lease(self, version: int) -> bool:
        values = {"lease_owner": self.owner, "lease_until": self._dt(self.clock() + self.lease_seconds),
                  "version": version + 1}
        return await self._update(values, WeChatToken.version == version)

    async def _update(self, values: dict, condition) -> bool:
        async with unit_of_work(self.sessions) as session:
            return await tokens.update_if(session, self.appid, condition, values)

    async def _refresh(self, force: bool) -> str:
        mine = WeChatToken.lease_owner == self.owner
        try:
            token, expires_in = await self.fetch(force)
        except BaseException:
            await asyncio.shield(self._update({"lease_owner": None, "lease_until": None}, mine))
            raise
        expires_at = self.clock() + expires_in
        stored = await self._update({"access_token": token, "expires_at": self._dt(expires_at), "lease_owner": None,
                                     "lease_until": None, "version": WeChatToken.version + 1}, mine)
        if not stored:
            log.warning("another process took over the access_token refresh lease; "
                        "keeping the token this process obtained")
        log.info("access_token refreshed (%s, expires in %d s)", "forced" if force else "normal", expires_in)
        return self._remember(token, expires_at)
