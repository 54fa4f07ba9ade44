"""Prepared statements run inside the session's own transaction, on both engines; the driver connection is
remembered for one transaction only; driver errors surface as SQLAlchemy's (a duplicate key, a lost connection)."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.db import UNAVAILABLE, Database
from storage.models import District
from storage.prepared import Prepared, _cached_connection, _sqlite3_connection

_INSERT = Prepared(lambda dialect: text("INSERT INTO districts (code, name) VALUES (:code, :name)"))
_RENAME = Prepared(lambda dialect: text("UPDATE districts SET name = :name WHERE code LIKE :codes"))
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
                first = _cached_connection(session)
                assert first is _sqlite3_connection(await session.connection())
            assert _cached_connection(session) is None  # committed: the connection went back to the pool
            async with session.begin():
                assert _cached_connection(session) is None
                await _INSERT.run(session, code="P4", name="丁")
                assert _cached_connection(session) is _sqlite3_connection(await session.connection())
                await session.rollback()
            assert _cached_connection(session) is None
        async with db.reading() as session:
            assert await _count(session, "P3") == 1 and await _count(session, "P4") == 0
    finally:
        await db.dispose()


async def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_counts_are_kept(db_url):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await _INSERT.run(session, code="D1", name="甲")
            await _INSERT.run(session, code="D2", name="乙")
            assert (await _RENAME.run(session, name="丙", codes="D%")).rowcount == 2
        with pytest.raises(IntegrityError):  # what the dispatcher turns into "another delivery was first"
            async with db.transaction() as session:
                await _INSERT.run(session, code="D3", name="丁")
                await _INSERT.run(session, code="D1", name="甲")
        async with db.transaction() as session:  # the failed transaction left nothing, the next one runs
            assert await _count(session, "D3") == 0 and await _count(session, "D1") == 1
    finally:
        await db.dispose()


async def test_a_lost_postgresql_connection_is_unavailable_and_replaced(db_url):
    if db_url.startswith("sqlite"):
        pytest.skip("a server connection to lose: PostgreSQL's")
    db = Database(db_url)
    try:
        with pytest.raises(DBAPIError) as lost:
            async with db.transaction() as session:
                await _INSERT.run(session, code="L1", name="甲")
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
                async with db.engine.connect() as other:
                    await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    await other.commit()
                await _INSERT.run(session, code="L2", name="乙")
        assert isinstance(lost.value, UNAVAILABLE) and lost.value.connection_invalidated  # the dispatcher retries
        async with db.transaction() as session:  # a fresh connection: nothing of the lost transaction
            await _INSERT.run(session, code="L3", name="丙")
            assert await _count(session, "L1") == 0 and await _count(session, "L3") == 1
    finally:
        await db.dispose()
