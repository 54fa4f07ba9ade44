"""The dispatcher: one message in, one reply out, exactly one effect however often WeChat delivers it.

Order of work for each message: per-resident lock → transaction → the dedupe row (a retry: its stored reply) → resident →
conversation → first matching handler → save conversation → dedupe row with the reply → commit. A handler's error rolls back its effects and the
resident gets a polite answer; a busy or restarting database is retried for up to 2.5 s (WeChat waits 5), then
answered honestly.

On SQLite one writer runs at a time, so messages that arrive while a transaction is open queue for it anyway:
`GroupCommit` handles the queued messages one after another in one transaction and commits them together
(group commit), which saves a session, a BEGIN and a COMMIT per message under load. Each message still commits
with its effects and its dedupe row, and no reply leaves before the commit. PostgreSQL runs writers side by side:
one transaction per message there.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Sequence

from sqlalchemy.exc import IntegrityError

from bot import metrics, replay, voice
from bot.context import Context, Services
from bot.conversation import ConversationState
from bot.delivery.inbound import note_inbound, opens_window
from bot.router import Router, route
from bot.types import InboundMessage, Reply
from storage.backoff import Backoff
from storage.db import UNAVAILABLE
from storage.repositories import arrival, conversations, processed, residents

log = logging.getLogger("linli.dispatch")

ERROR_REPLY = Reply("抱歉，系统处理您的消息时出了问题，工作人员已收到记录。请稍后再试，或回复「帮助」查看可用功能。")
BUSY_REPLY = Reply("系统繁忙，请稍后再发一次。您刚才的消息未被处理，不会重复记录。")
DB_ATTEMPTS = 12  # bounds the loop; the time below is what ends it
DB_RETRY_SECONDS = 2.5  # a busy or restarting database is waited for this long before the resident is told
BUSY_BACKOFF = Backoff(0.05, 0.5)
MAX_BATCH = 32  # messages per group commit: bounds how long other writers (console, jobs) wait for the lock


@dataclass
class Delivery:
    """Shared between the web request and the dispatch task: whether the passive answer already went out, and
    the request's replay claim (`bot.replay`), taken in the message's transaction."""

    late: bool = False
    claim: replay.Claim | None = None


@dataclass(frozen=True)
class Outcome:
    reply: Reply
    duplicate: bool = False  # an earlier delivery of the same message already produced this reply
    push: bool = False  # the reply must be pushed (the passive answer was `success`)
    replayed: bool = False  # the request's (timestamp, nonce) came earlier with another body: refused, no effect


class ResidentLocks:
    """One asyncio lock per resident, so two quick messages never race on the same conversation state."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    def hold(self, openid: str) -> "_Held":
        return _Held(self, openid)


class _Held:
    def __init__(self, locks: ResidentLocks, openid: str):
        self.locks, self.openid = locks, openid

    async def __aenter__(self) -> None:
        locks = self.locks
        locks._users[self.openid] += 1
        lock = locks._locks.setdefault(self.openid, asyncio.Lock())
        await lock.acquire()

    async def __aexit__(self, *exc) -> None:
        locks = self.locks
        locks._locks[self.openid].release()
        locks._users[self.openid] -= 1
        if locks._users[self.openid] == 0:
            del locks._users[self.openid]
            del locks._locks[self.openid]


class _HandlerFailed(Exception):
    """A handler raised: its transaction is rolled back and the resident gets ERROR_REPLY."""


class _Replayed(Exception):
    """The request's (timestamp, nonce) is bound to another body: its transaction is rolled back."""


REPLAYED = Outcome(Reply(silent=True), replayed=True)


class _Duplicate(Exception):
    """The claim row already exists: another delivery of the same message committed first."""


class Dispatcher:
    def __init__(self, services: Services, routers: Sequence[Router]):
        self.services = services
        self.routers = list(routers)
        self.locks = ResidentLocks()
        self._group = GroupCommit(services.db, self._handle) if services.db.is_sqlite else None

    async def feed(self, message: InboundMessage, delivery: Delivery | None = None) -> Outcome:
        delivery = delivery or Delivery()
        loop = asyncio.get_running_loop()
        give_up, delays = loop.time() + DB_RETRY_SECONDS, BUSY_BACKOFF.delays()
        async with self.locks.hold(message.openid):
            # before the transaction (a speech backend may take seconds); inside the lock (messages stay in order)
            message = await voice.hear(message, self.services.asr, self.services.wechat, self.services.settings.asr_timeout)
            for attempt in range(DB_ATTEMPTS):
                try:
                    if self._group is not None:
                        return await self._group.submit(message, delivery)
                    return await self._process(message, delivery)
                except _Duplicate:
                    # Another worker committed the same message meanwhile: the next attempt answers with its reply.
                    log.info("duplicate delivery raced on another worker")
                except _Replayed:
                    return REPLAYED
                except _HandlerFailed:
                    await self._claim_alone(delivery)
                    return Outcome(ERROR_REPLY)
                except UNAVAILABLE as exc:  # busy, locked, restarting or unreachable
                    log.warning("database busy (attempt %d): %s", attempt + 1, type(exc).__name__)
                    metrics.DB_RETRIES.inc()
                    delay = next(delays)
                    if loop.time() + delay > give_up:  # within WeChat's 5 s: tell the resident honestly
                        break
                    await asyncio.sleep(delay)
            return Outcome(BUSY_REPLY)

    async def _claim_alone(self, delivery: Delivery) -> None:
        """A failed message's transaction took its replay claim with it: take the claim on its own, so its pair
        cannot be reused with another body either."""
        if delivery.claim is None:
            return
        try:
            async with self.services.db.transaction() as session:
                await replay.take(session, delivery.claim)
        except UNAVAILABLE as exc:
            log.warning("could not record a replay claim: %s", type(exc).__name__)

    async def _process(self, message: InboundMessage, delivery: Delivery) -> Outcome:
        """One message in one transaction of its own."""
        async with self.services.db.transaction() as session:
            return await self._handle(session, message, delivery)

    async def _handle(self, session, message: InboundMessage, delivery: Delivery) -> Outcome:
        """One message's work inside an open transaction. The claim row is written last, with the reply: if
        another delivery of the same message committed first, its insert fails (`_Duplicate`) and the caller
        rolls back everything this one did."""
        services = self.services
        now = services.clock()
        if services.db.is_sqlite:
            found = await self._arrive_sqlite(session, message, delivery, now)
        else:
            found = await self._arrive(session, message, delivery, now)
        if isinstance(found, Outcome):
            return found
        resident, row = found
        if _interaction(message) and _stale(resident.last_message_at, now):
            resident.last_message_at = now
        live = row is not None and row.expires_at > now
        state = ConversationState(row.state, dict(row.data)) if live and row else ConversationState()
        previous_heard = voice.recall(state)
        before = voice.snapshot(state) if message.heard else None
        ctx = Context(message, session, resident, state, services, now, previous_heard=previous_heard)
        reply = await self._run_handlers(ctx)
        if message.heard:
            reply = voice.echo(message.content, reply)
            if before is not None and not ctx.forget_heard and not ctx.erased:
                voice.remember(state, message.content, before)
        save = state.changed and not ctx.erased
        record_openid, stored = ("", None) if ctx.erased else (message.openid, reply.to_dict())
        if _pending(session):  # the handlers' ORM changes go in before the next message of the batch starts
            await session.flush()
        try:
            if save and not services.db.is_sqlite:  # the save and the dedupe row: one statement
                await self._save_and_record(ctx, row, record_openid, stored, delivery.late)
            else:
                if save:
                    await self._save_state(ctx, row)
                await processed.record(session, message.dedupe_key, record_openid, now, stored, pushed=delivery.late)
        except IntegrityError:
            raise _Duplicate() from None
        return Outcome(reply, push=delivery.late)

    async def _arrive(self, session, message: InboundMessage, delivery: Delivery, now):
        """PostgreSQL: the replay claim, the dedupe row, the resident with their conversation and the window in one
        statement (`storage.repositories.arrival`). A retry is answered from its dedupe row at once."""
        claim = delivery.claim
        arrived = await arrival.arrive(
            session, message.openid, message.dedupe_key,
            None if claim is None else (claim.key, claim.digest, claim.expires_at), now,
            open_window=opens_window(message),
        )
        if claim is not None and arrived.bound != claim.digest:
            raise _Replayed()
        if arrived.seen is not None:
            return _answered(arrived.seen.reply, arrived.seen.pushed)
        if arrived.resident is None:  # first contact: created, then read and the window opened as on SQLite
            resident, row = await residents.with_conversation(session, message.openid, now)
            await note_inbound(session, resident, message, now)
            return resident, row
        return arrived.resident, arrived.conversation

    async def _arrive_sqlite(self, session, message: InboundMessage, delivery: Delivery, now):
        """SQLite: the same work as separate statements (microseconds each, no round trip), but the two reads in
        one: the dedupe row with the resident and their conversation (`arrival.look_up`), so a retry is answered
        from its row before any handler runs, as on PostgreSQL."""
        if delivery.claim is not None and not await replay.take(session, delivery.claim):
            raise _Replayed()
        found = await arrival.look_up(session, message.openid, message.dedupe_key)
        if found.seen is not None:
            return _answered(found.seen.reply, found.seen.pushed)
        if found.resident is None:  # first contact: created, then read
            resident, row = await residents.with_conversation(session, message.openid, now)
        else:
            resident, row = found.resident, found.conversation
        await note_inbound(session, resident, message, now)
        return resident, row

    async def _run_handlers(self, ctx: Context) -> Reply:
        try:
            result = await route(self.routers, ctx)
        except asyncio.CancelledError:
            raise
        except UNAVAILABLE:
            raise
        except Exception:
            log.exception("handler failed", extra={"msg_key": ctx.message.dedupe_key})
            metrics.HANDLER_ERRORS.inc()
            raise _HandlerFailed() from None
        return result if isinstance(result, Reply) else Reply(silent=True)

    async def _save_and_record(self, ctx: Context, row, record_openid: str, stored: dict | None, late: bool) -> None:
        message, state, now = ctx.message, ctx.conversation, ctx.now
        if state.state is None:
            if row is None:
                await processed.record(ctx.session, message.dedupe_key, record_openid, now, stored, pushed=late)
            else:
                await arrival.clear_and_record(ctx.session, message.openid, message.dedupe_key, record_openid, now,
                                               stored, pushed=late)
            return
        ttl = timedelta(seconds=self.services.settings.conversation_ttl)
        await arrival.save_and_record(ctx.session, message.openid, state.state, state.data, ttl,
                                      message.dedupe_key, record_openid, now, stored, pushed=late)

    async def _save_state(self, ctx: Context, row) -> None:
        openid, state = ctx.message.openid, ctx.conversation
        if state.state is None:
            if row is not None:
                await conversations.clear(ctx.session, openid)
        else:
            ttl = timedelta(seconds=self.services.settings.conversation_ttl)
            await conversations.save(ctx.session, openid, state.state, state.data, ctx.now, ttl)


class _Job:
    __slots__ = ("message", "delivery", "future")

    def __init__(self, message: InboundMessage, delivery: Delivery, future: asyncio.Future):
        self.message, self.delivery, self.future = message, delivery, future


class GroupCommit:
    """SQLite group commit: the messages waiting for the writer are handled in one transaction, in arrival
    order, and committed together; each caller gets its own outcome only after that commit.

    A message whose handling fails (a handler's error, a dedupe row another worker committed first, a bug)
    must not take its neighbours' effects with it, and a savepoint per message would cost what batching saves.
    So the batch is rolled back, that message alone gets its error, and the rest run again in a fresh
    transaction (nothing of theirs was committed, so running them again is their first effect). A database
    error (busy, I/O) fails the whole batch: every caller retries as it would have alone.
    """

    def __init__(self, db, handle, max_batch: int = MAX_BATCH):
        self.db, self.handle, self.max_batch = db, handle, max_batch
        self._queue: deque[_Job] = deque()
        self._drainer: asyncio.Task | None = None

    async def submit(self, message: InboundMessage, delivery: Delivery) -> Outcome:
        job = _Job(message, delivery, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name="dispatch:group-commit")
        return await job.future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch: list[_Job] = []
                while self._queue and len(batch) < self.max_batch:
                    job = self._queue.popleft()
                    if not job.future.done():  # a caller cancelled while queued: nothing to do
                        batch.append(job)
                if batch:
                    await self._commit(batch)
        finally:
            self._drainer = None
            for job in self._queue:  # only when cancelled (shutdown): leave no caller waiting
                if not job.future.done():
                    job.future.cancel()

    async def _commit(self, batch: list[_Job]) -> None:
        while batch:
            outcomes: list[Outcome] = []
            failed: tuple[_Job, BaseException] | None = None
            try:
                async with self.db.transaction() as session:
                    for index, job in enumerate(batch):
                        if index:  # each message starts from the database, as in a transaction of its own
                            session.expunge_all()
                        try:
                            outcomes.append(await self.handle(session, job.message, job.delivery))
                        except UNAVAILABLE:
                            raise
                        except Exception as error:  # this message's own failure
                            failed = (job, error)
                            raise _Abandoned() from None
            except _Abandoned:
                assert failed is not None, "_Abandoned is raised right after `failed` is set"
                job, failure = failed
                if not job.future.done():
                    job.future.set_exception(failure)
                batch = [other for other in batch if other is not job]
                continue
            except BaseException as error:  # the database failed us (or shutdown): every caller decides
                for job in batch:
                    if job.future.done():
                        continue
                    if isinstance(error, asyncio.CancelledError):
                        job.future.cancel()
                    else:
                        job.future.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                return
            for job, outcome in zip(batch, outcomes):
                if not job.future.done():
                    job.future.set_result(outcome)
            return


class _Abandoned(Exception):
    """Raised inside a batch's transaction to roll it back after one message failed."""


def _answered(reply: dict | None, pushed: bool) -> Outcome:
    """The outcome of a message an earlier delivery already answered (its dedupe row)."""
    metrics.DEDUPE_HITS.inc()
    return Outcome(Reply(silent=True) if pushed else Reply.from_dict(reply), duplicate=True)


def _pending(session) -> bool:
    """Whether the session holds ORM changes to flush: most messages change no ORM object, and an empty flush
    still cost a greenlet hop and the unit of work's setup."""
    sync = session.sync_session
    return bool(sync.identity_map.check_modified() or sync.new or sync.deleted)


def _interaction(message: InboundMessage) -> bool:
    """What WeChat counts as the resident reaching out (messages, menu clicks, follow, scan)."""
    return message.kind != "event" or message.event in ("click", "scan", "subscribe", "subscribe_scan")


def _stale(last, now, precision: timedelta = timedelta(minutes=5)) -> bool:
    """`last_message_at` is kept to the minute-ish (activity figures), saving a write on chatty dialogs; the
    customer-service window itself is tracked exactly by the delivery engine."""
    return last is None or now - last >= precision
