"""The sender: claim a batch, send it concurrently, record the outcomes — in that order, in short transactions.

No transaction is open while HTTP requests are in flight. Each worker process runs `lanes` such loops, so one
lane's database work overlaps another's requests. Per resident: 客服 message while the window is open, else the
category's 订阅通知 or template message (`channels.choose`); a window that WeChat reports closed or full (45015 /
45047) or a refused 订阅通知 (43101) falls through to the next channel in the same attempt.

Outcomes: sent (with msgid) · skipped (not_following 43004 — the resident is marked unsubscribed —, invalid_openid
40003, refused, no_channel, muted, resident_gone) · retry later (-1, timeouts, dropped connections: exponential
backoff up to `max_attempts`, then failed) · failed (any other errcode) · 45009: back to the queue without using
an attempt, and the broadcast pauses until the quota resets. Template sends carry `client_msg_id` =
broadcast+delivery id, so WeChat drops a repeat within 10 minutes (retries, and resends after a crash).

Once a batch has been sent, its outcomes are what must not be lost: if the database is away when they are to be
written (a PostgreSQL restart), the write is retried until the batch's lease ends. Dropping them would put the
batch back in the queue when the lease expires and send every message of it a second time. For the same reason a
database that goes away in the middle of a batch (the shared rate limit draws its tokens there) does not abandon
the batch: the messages not yet sent go back to the queue without using an attempt, the sent ones are recorded.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import aiohttp

from bot import metrics
from bot.context import Services
from bot.delivery import channels as ch
from bot.delivery import outbox
from bot.delivery.config import DeliveryConfig
from bot.delivery.quota import next_reset
from bot.delivery.ratelimit import RateLimiter
from bot.outbound import (
    DailyQuotaExceeded,
    InvalidOpenID,
    NotFollowing,
    ResponseQuotaExceeded,
    RetryPolicy,
    SystemBusy,
    UserRefused,
    WeChatClient,
    WeChatError,
    WeChatUnavailable,
    WindowExpired,
)
from storage.backoff import Backoff
from storage.db import UNAVAILABLE
from storage.delivery_models import Broadcast
from storage.repositories import broadcasts
from storage.repositories import deliveries as repo
from storage.repositories.deliveries import Claimed

log = logging.getLogger("linli.delivery")
RECORD_RETRY = Backoff(0.1, 2.0)  # seconds between tries to record a sent batch's outcomes


def worker_id() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Result:
    id: int
    status: str
    reason: str | None = None
    channel: str | None = None
    errcode: int | None = None
    msgid: int | None = None
    detail: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    refund: int = 0
    window_used: bool = False
    window_full: bool = False
    unfollowed: bool = False
    quota: bool = False

    def row(self) -> dict:
        return {k: getattr(self, k) for k in ("id", "refund", *repo.RESULT_KEYS)}


@dataclass
class Stats:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    batches: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


class Sender:
    def __init__(self, services: Services, config: DeliveryConfig | None = None, *, owner: str | None = None,
                 client: WeChatClient | None = None):
        self.services, self.db, self.clock = services, services.db, services.clock
        self.config = config or DeliveryConfig.from_settings(services.settings)
        self.owner = owner or worker_id()
        self._client, self._own_client = client, client is None
        self.limiter = RateLimiter(self.db, self.config.rate)
        self.stats = Stats()
        self.wake = asyncio.Event()

    @property
    def client(self) -> WeChatClient:
        if self._client is None:
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=self.config.lanes * self.config.concurrency))
            self._client = WeChatClient.with_database_tokens(
                self.services.settings, self.db.sessions, http, retry=RetryPolicy(attempts=1))
            self._client._own_session = True
        return self._client

    async def close(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.close()

    # --- loops ---------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> Stats:
        """Send until `stop` is set (or, with `until_idle`, until no broadcast is being sent)."""
        stop = stop or asyncio.Event()
        lanes = [asyncio.create_task(self._lane(stop, until_idle), name=f"delivery-lane-{i}")
                 for i in range(self.config.lanes)]
        try:
            await asyncio.gather(*lanes)
        finally:
            for lane in lanes:
                lane.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
        return self.stats

    async def _lane(self, stop: asyncio.Event, until_idle: bool) -> None:
        while not stop.is_set():
            try:
                worked, active = await self.step()
            except (asyncio.TimeoutError, *UNAVAILABLE) as exc:  # database away (storage.db.UNAVAILABLE)
                log.warning("send loop failed for now (%s); retrying", type(exc).__name__)
                worked, active = 0, True
            if worked:
                continue
            if until_idle and not active:
                return
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), self.config.poll)
            except asyncio.TimeoutError:
                pass

    async def step(self) -> tuple[int, bool]:
        """One batch of one broadcast: (deliveries handled, whether any broadcast is still being sent)."""
        async with self.db.transaction() as session:
            active = await broadcasts.sending(session)
        for broadcast in active:
            if not broadcast.expanded:
                async with self.db.transaction() as session:
                    await repo.expand_step(session, broadcast.id, self.config.expand_batch)
            leased_until = time.monotonic() + self.config.lease_seconds
            batch = await self._claim(broadcast)
            if batch:
                await self._send_batch(broadcast, batch, leased_until)
                return len(batch), True
            if broadcast.expanded:
                async with self.db.transaction() as session:
                    if await broadcasts.finish_if_complete(session, broadcast.id, self.clock()):
                        log.info("broadcast %d finished", broadcast.id)
        return 0, bool(active)

    async def _claim(self, broadcast: Broadcast) -> list[Claimed]:
        now = self.clock()
        size = self.config.batch
        if self.limiter.enabled:  # a batch must be sendable well within its lease
            size = max(1, min(size, int(self.config.rate * self.config.lease_seconds / 4)))
        async with self.db.transaction() as session:
            return await repo.claim(session, broadcast.id, self.owner, size, now,
                                    now + timedelta(seconds=self.config.lease_seconds),
                                    skip_locked=not self.db.is_sqlite)

    # --- one batch -----------------------------------------------------------------------------------------
    async def _send_batch(self, broadcast: Broadcast, batch: list[Claimed], leased_until: float) -> None:
        """Send the batch, then record every outcome (retried while the database is away and the lease lasts;
        `leased_until` is on the `time.monotonic` clock)."""
        gate = asyncio.Semaphore(self.config.concurrency)
        content = outbox.content_of(broadcast)

        async def one(item: Claimed) -> Result:
            async with gate:
                return await self._deliver(broadcast, content, item)

        results = await asyncio.gather(*(one(item) for item in batch))
        for delay in RECORD_RETRY.delays():
            try:
                await self._record(broadcast, batch, results)
                break
            except UNAVAILABLE as exc:
                if time.monotonic() + delay >= leased_until:
                    log.error("broadcast %d: %d delivery outcomes could not be recorded (%s); "
                              "they are resent after the lease",
                              broadcast.id, len(results), type(exc).__name__)
                    raise
                log.warning("broadcast %d: outcomes not recorded yet (%s); retrying in %.1f s", broadcast.id,
                            type(exc).__name__, delay)
                metrics.DB_RETRIES.inc()
                await asyncio.sleep(delay)
        self._count(results)

    async def _record(self, broadcast: Broadcast, batch: list[Claimed], results: list[Result]) -> None:
        by_id = {item.id: item for item in batch}

        def residents(which: Callable[[Result], bool]) -> list[int]:
            return [rid for r in results if which(r) and (rid := by_id[r.id].resident_id) is not None]

        now = self.clock()
        async with self.db.transaction() as session:
            await repo.record(session, self.owner, [r.row() for r in results])
            await repo.use_windows(session, residents(lambda r: r.window_used), residents(lambda r: r.window_full))
            await repo.mark_unfollowed(session, residents(lambda r: r.unfollowed))
            await repo.apply_pending_receipts(session, [r.msgid for r in results if r.msgid])
            if any(r.quota for r in results):
                await broadcasts.pause(session, broadcast.id, next_reset(now), "daily_quota")
                log.warning("broadcast %d hit the daily WeChat quota (45009); resuming at %s", broadcast.id,
                            next_reset(now))

    def _count(self, results: list[Result]) -> None:
        s = self.stats
        s.batches += 1
        for r in results:
            metrics.DELIVERIES.labels(r.status, r.channel or "none").inc()
            if r.status == "sent":
                s.sent += 1
                s.by_channel[r.channel or "?"] = s.by_channel.get(r.channel or "?", 0) + 1
            elif r.status == "skipped":
                s.skipped += 1
            elif r.status == "failed":
                s.failed += 1
            else:
                s.retried += 1

    async def _deliver(self, broadcast: Broadcast, content: ch.Content, item: Claimed) -> Result:
        if item.openid is None:
            return Result(item.id, "skipped", "resident_gone")
        if not item.subscribed:
            return Result(item.id, "skipped", "not_following")
        now = self.clock()
        config = self.config.for_category(broadcast.category)
        window = ch.window_open(item.window_opened_at, item.window_used, now, self.config.cs_reserve)
        excluded: set[str] = set()
        window_full, last_error = False, None
        while (channel := ch.choose(config, window=window, exclude=frozenset(excluded))) is not None:
            try:
                await self.limiter.take()
            except UNAVAILABLE:  # the shared bucket lives in the database: nothing was sent, the attempt is given back
                return Result(item.id, "queued", "database_unavailable", refund=1, window_full=window_full)
            try:
                msgid = await self._send(channel, broadcast, content, item.openid, item.id, config)
            except (WindowExpired, ResponseQuotaExceeded, UserRefused) as exc:
                excluded.add(channel)
                window_full = window_full or channel == ch.CUSTOM
                last_error = exc
                continue
            except Exception as exc:  # WeChatError, WeChatUnavailable, or a surprise: retried, never lost
                if not isinstance(exc, (WeChatError, WeChatUnavailable)):
                    log.exception("broadcast %d: unexpected error on delivery %d", broadcast.id, item.id)
                result = self._failure(item, exc, channel, now)
                result.window_full = window_full
                return result
            return Result(item.id, "sent", channel=channel, msgid=msgid, sent_at=self.clock(),
                          window_used=channel == ch.CUSTOM, window_full=window_full)
        reason = "refused" if isinstance(last_error, UserRefused) else "no_channel"
        return Result(item.id, "skipped", reason, errcode=getattr(last_error, "errcode", None),
                      window_full=window_full)

    async def _send(self, channel: str, broadcast: Broadcast, content: ch.Content, openid: str, delivery_id: int,
                    config) -> int | None:
        client = self.client
        if channel == ch.CUSTOM:
            await client.send_text(openid, ch.custom_text(content))
            return None
        data = ch.template_data(config, content, broadcast.category, broadcast.created_at)
        if channel == ch.SUBSCRIBE:
            await client.send_subscribe(openid, config.subscribe, data, content.link)
            return None
        return await client.send_template(openid, config.template, data, content.link,
                                          client_msg_id=f"linli-b{broadcast.id}-d{delivery_id}")

    def _failure(self, item: Claimed, exc: Exception, channel: str, now: datetime) -> Result:
        code = getattr(exc, "errcode", None)
        detail = str(exc)[:200]
        if isinstance(exc, NotFollowing):
            return Result(item.id, "skipped", "not_following", channel, code, detail=detail, unfollowed=True)
        if isinstance(exc, InvalidOpenID):
            return Result(item.id, "skipped", "invalid_openid", channel, code, detail=detail)
        if isinstance(exc, DailyQuotaExceeded):
            return Result(item.id, "queued", "daily_quota", channel, code, detail=detail, refund=1, quota=True)
        if isinstance(exc, (SystemBusy, WeChatUnavailable)) or not isinstance(exc, WeChatError):
            reason = "system_busy" if isinstance(exc, SystemBusy) else "unreachable"
            if item.attempts >= self.config.max_attempts:
                return Result(item.id, "failed", reason, channel, code, detail=detail)
            delay = timedelta(seconds=self.config.retry_delay(item.attempts))
            return Result(item.id, "queued", reason, channel, code, detail=detail, next_attempt_at=now + delay)
        return Result(item.id, "failed", f"errcode_{code}", channel, code, detail=detail)
