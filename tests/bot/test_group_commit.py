"""Group commit on SQLite: messages queued for the writer share a transaction, yet each keeps its own outcome.

These run on both engines: on PostgreSQL every message has its own transaction, and the answers must be the same.
"""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.dispatch import ERROR_REPLY, GroupCommit
from bot.router import ANY_STATE, Router
from bot.simulator import text_xml
from bot.states import StatesGroup, state
from bot.types import Reply
from storage.models import Conversation, ProcessedMessage

RESIDENTS = 40


class Counting(StatesGroup, prefix="count"):
    n = state()


def counting_router(fail_on: str = "坏", runs: list[str] | None = None) -> Router:
    router = Router("count")

    @router.text(state=ANY_STATE)  # a retry, if it were run again, would be taken here too
    async def count(ctx):
        if runs is not None:
            runs.append(ctx.message.openid)
        await asyncio.sleep(0)  # let the other messages queue behind this transaction
        ctx.conversation.update(Counting.n, n=ctx.conversation.data.get("n", 0) + 1)
        if ctx.text == fail_on:
            raise RuntimeError("a handler bug")
        return Reply(f"{ctx.message.openid} 第{ctx.conversation.data['n']}次")

    return router


class TransactionCounter:
    """Counts the transactions `db` opens from now on (wraps its `transaction` method)."""

    def __init__(self, db):
        self.count, opened = 0, db.transaction

        def counted():
            self.count += 1
            return opened()

        db.transaction = counted


async def _scalar(bot, stmt):
    async with bot.services.db.reading() as session:
        return await session.scalar(stmt)


async def test_concurrent_messages_each_commit_once_and_a_failure_takes_only_its_own(start_bot, settings):
    runs: list[str] = []
    bot = await start_bot(settings, routers=[counting_router(runs=runs)])
    db = bot.services.db
    transactions = TransactionCounter(db)
    texts = ["坏" if i == 7 else "你好" for i in range(RESIDENTS)]
    xmls = [text_xml(f"o_group_{i:02d}", texts[i], msg_id=50_000 + i) for i in range(RESIDENTS)]
    replies = await asyncio.gather(*(bot.sim.post(xml) for xml in xmls))

    for i, reply in enumerate(replies):
        assert reply.status == 200
        if i == 7:
            assert reply.text == ERROR_REPLY.text
        else:
            assert reply.text == f"o_group_{i:02d} 第1次"
    if db.is_sqlite:  # messages that queued for the writer were committed together
        assert transactions.count < RESIDENTS
    # every good message is recorded once with its effect; the failed one left nothing (WeChat's retry re-runs it)
    assert await _scalar(bot, select(func.count()).select_from(ProcessedMessage)) == RESIDENTS - 1
    assert await _scalar(bot, select(func.count()).select_from(Conversation)) == RESIDENTS - 1
    assert await _scalar(bot, select(func.count()).where(Conversation.openid == "o_group_07")) == 0

    # the same deliveries again (WeChat's retries): the stored replies, no second effect
    handled = len(runs)
    again = await asyncio.gather(*(bot.sim.post(xml) for i, xml in enumerate(xmls) if i != 7))
    assert [r.text for r in again] == [f"o_group_{i:02d} 第1次" for i in range(RESIDENTS) if i != 7]
    # answered from their dedupe rows: no handler ran again (on SQLite a retry found only by its failing insert
    # used to roll back, and run again, every message of its batch)
    assert len(runs) == handled
    async with bot.services.db.reading() as session:
        counts = (await session.execute(select(Conversation.openid, Conversation.data))).all()
    assert all(data["n"] == 1 for _, data in counts)


async def test_a_batch_shares_one_transaction_and_a_failure_reruns_the_rest(sqlite_url):
    """The batching itself, without the web server: how many transactions ran, and who got what."""
    from storage.db import Database

    db = Database(sqlite_url)
    transactions = TransactionCounter(db)
    handled: list[str] = []
    gate = asyncio.Event()

    async def handle(session, message, delivery):
        await gate.wait()
        handled.append(message)
        if message == "bad":
            raise ValueError("bad message")
        return f"done {message}"

    group = GroupCommit(db, handle, max_batch=10)
    try:
        calls = [asyncio.create_task(group.submit(name, None)) for name in ["a", "b", "bad", "c"]]
        await asyncio.sleep(0.01)
        gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await db.dispose()
    assert results[0] == "done a" and results[1] == "done b" and results[3] == "done c"
    assert isinstance(results[2], ValueError)
    # the first transaction ran a, b, bad and was rolled back; the second ran a, b, c and committed
    assert handled == ["a", "b", "bad", "a", "b", "c"]
    assert transactions.count == 2
