"""Read-only transactions see committed data and refuse writes; SQLite gets planner statistics."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from storage.db import UNAVAILABLE, Database
from storage.models import District


async def test_reading_sees_what_is_committed_and_refuses_writes(db_url):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            session.add(District(code="RD", name="读区"))
        async with db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(District).where(District.code == "RD")) == 1
        with pytest.raises(UNAVAILABLE):
            async with db.reading() as session:
                await session.execute(text("UPDATE districts SET name = 'x' WHERE code = 'RD'"))
        async with db.reading() as session:
            assert await session.scalar(select(District.name).where(District.code == "RD")) == "读区"
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
