"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale path).

SQLite gets WAL, a busy timeout, foreign keys and `BEGIN IMMEDIATE` for write transactions, so concurrent
writers queue on the database lock instead of failing half-way; PostgreSQL gets a pooled asyncpg engine.
"""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create an engine for `url`; makes the SQLite file's folder when needed."""
    if is_sqlite(url):
        return _sqlite_engine(url, echo)
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_engine(url: str, echo: bool) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "isolation_level": None}
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every SQLite test
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised through every SQLite test
        # Take the write lock up front: a deferred transaction that later writes can fail with
        # "database is locked" instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends normally, rolls back on any error."""
    async with sessions() as session:
        async with session.begin():
            yield session


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class Database:
    """The engine, its session factory, and the unit of work every caller uses.

    On SQLite one process writes at a time (an asyncio lock in front of `BEGIN IMMEDIATE`), so writers queue
    in memory instead of spinning in SQLite's busy handler; other processes still wait on the busy timeout.
    """

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.is_sqlite = is_sqlite(url)
        self.engine = create_engine(url, echo=echo)
        self.sessions = session_factory(self.engine)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on normal exit, roll back on error."""
        if self._write_lock is None:
            async with unit_of_work(self.sessions) as session:
                yield session
            return
        async with self._write_lock:
            async with unit_of_work(self.sessions) as session:
                yield session

    async def ping(self) -> None:
        await ping(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
