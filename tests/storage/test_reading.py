"""Read-only transactions: `reading()` and `reading_offloaded()` see committed data, refuse writes, and on
SQLite an offloaded query leaves the event loop free to serve others while it runs."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select, text

from storage.db import UNAVAILABLE, Database
from storage.models import District

# A query that keeps SQLite busy for a while without any table: count to a few million in a recursive CTE.
SLOW_QUERY = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
                  "SELECT count(*) FROM n")


@pytest.mark.parametrize("kind", ["reading", "reading_offloaded"])
async def test_both_read_what_is_committed_and_refuse_writes(db_url, kind):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            session.add(District(code="RD", name="读区"))
        async with getattr(db, kind)() as session:
            assert await session.scalar(select(func.count()).select_from(District).where(District.code == "RD")) == 1
        with pytest.raises(UNAVAILABLE):
            async with getattr(db, kind)() as session:
                await session.execute(text("UPDATE districts SET name = 'x' WHERE code = 'RD'"))
        async with db.reading() as session:
            assert await session.scalar(select(District.name).where(District.code == "RD")) == "读区"
    finally:
        await db.dispose()


async def _longest_tick_gap(work) -> tuple[float, float]:
    """Run `work()` while a ticker sleeps 1 ms at a time; (work seconds, longest gap between ticks)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.005)  # the ticker is running
    started = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    return elapsed, max(gaps, default=0.0)


async def test_an_offloaded_query_does_not_stall_the_event_loop(sqlite_url):
    db = Database(sqlite_url)
    try:
        async def inline():
            async with db.reading() as session:
                assert await session.scalar(SLOW_QUERY) == 3000000

        async def offloaded():
            async with db.reading_offloaded() as session:
                assert await session.scalar(SLOW_QUERY) == 3000000

        await offloaded()  # open the pool's connection first
        inline_seconds, inline_gap = await _longest_tick_gap(inline)
        _, offloaded_gap = await _longest_tick_gap(offloaded)
        # inline, the loop is blocked for the whole query; offloaded, it keeps ticking (GIL switches: ~5 ms)
        assert inline_gap >= 0.8 * inline_seconds
        assert offloaded_gap < max(0.05, inline_gap / 4), (inline_gap, offloaded_gap)
    finally:
        await db.dispose()


async def test_analyze_gives_sqlite_planner_statistics(db_url):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            session.add_all([District(code=f"A{i}", name=f"区{i}") for i in range(5)])
        refreshed = await db.analyze()
        assert refreshed is db.is_sqlite  # PostgreSQL's autovacuum keeps its own
        if db.is_sqlite:
            async with db.reading() as session:
                rows = dict((await session.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'districts'"))).all())
            assert rows and all(stat.startswith("5") for stat in rows.values())  # 5 rows counted
    finally:
        await db.dispose()
