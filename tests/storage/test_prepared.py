"""Prepared statements run inside the session's own transaction, on both engines; on SQLite the connection
is remembered for one transaction only."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, text

from storage.db import Database
from storage.models import District
from storage.prepared import Prepared, _cached_sqlite3, _sqlite3_connection

_INSERT = Prepared(lambda dialect: text("INSERT INTO districts (code, name) VALUES (:code, :name)"))
_COUNT = Prepared(lambda dialect: select(func.count()).select_from(District).where(District.code == bindparam("code")))


async def _count(session, code: str) -> int:
    return (await _COUNT.run(session, code=code)).first()[0]


async def test_statements_share_the_sessions_transaction(db_url):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await _INSERT.run(session, code="P1", name="甲")
            assert await _count(session, "P1") == 1
            # the ORM sees it too: the same connection and transaction
            assert await session.scalar(select(District.name).where(District.code == "P1")) == "甲"
        try:
            async with db.transaction() as session:
                await _INSERT.run(session, code="P2", name="乙")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        async with db.reading() as session:
            assert await _count(session, "P1") == 1 and await _count(session, "P2") == 0
    finally:
        await db.dispose()


async def test_the_sqlite_connection_is_remembered_for_one_transaction_only(sqlite_url):
    db = Database(sqlite_url)
    try:
        async with db.sessions() as session:
            async with session.begin():
                await _INSERT.run(session, code="P3", name="丙")
                first = _cached_sqlite3(session)
                assert first is _sqlite3_connection(await session.connection())
            assert _cached_sqlite3(session) is None  # committed: the connection went back to the pool
            async with session.begin():
                assert _cached_sqlite3(session) is None
                await _INSERT.run(session, code="P4", name="丁")
                assert _cached_sqlite3(session) is _sqlite3_connection(await session.connection())
                await session.rollback()
            assert _cached_sqlite3(session) is None
        async with db.reading() as session:
            assert await _count(session, "P3") == 1 and await _count(session, "P4") == 0
    finally:
        await db.dispose()
