"""Engine and session factory for SQLite (embedded default) and PostgreSQL (scale path).

SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` for every transaction, with its calls made inline on the
event loop (`storage.sqlite_inline`); writers in one process queue on an asyncio lock shared per database file,
writers in other processes are waited for with asyncio sleeps. PostgreSQL gets a pooled asyncpg engine.
"""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any, AsyncIterator, cast

from asyncpg.exceptions import CannotConnectNowError, PostgresConnectionError
from sqlalchemy import event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from storage import sqlite_inline
from storage.backoff import Backoff
from storage.private_files import create_private, private_folder
from storage.wal import WalCheckpointer

SQLITE_BUSY_TIMEOUT_MS = 10_000
LOCK_WAIT = Backoff(0.001, 0.05)  # between tries for SQLite's write lock held by another process
SQLITE_ANALYSIS_LIMIT = 1000  # rows sampled per index by `Database.analyze`


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE / DELETE / INSERT changed (0 when the driver cannot tell)."""
    return cast(CursorResult[Any], result).rowcount or 0


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# A busy, locked, restarting or unreachable database: worth retrying, never the caller's bug. asyncpg's connect-time
# errors (PostgreSQL starting up or shutting down) reach us without SQLAlchemy's wrapping.
UNAVAILABLE = (OperationalError, DBAPIError, OSError, CannotConnectNowError, PostgresConnectionError)


def create_engine(url: str, *, echo: bool = False, read_only: bool = False, autocheckpoint: bool = True) -> AsyncEngine:
    """Create an engine for `url`; makes the SQLite file (mode 0600) and its folder when needed. A read-only
    SQLite engine opens deferred transactions, which in WAL mode run beside the writer and each other.
    Statement parameters (residents' words, phone numbers) never appear in errors or logs (`hide_parameters`)."""
    if is_sqlite(url):
        return _sqlite_engine(url, echo, read_only, autocheckpoint)
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 10.0  # seconds a pooled PostgreSQL connection rests before it is pinged at checkout


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only when it rested `PING_AFTER_IDLE` seconds or more.

    `pool_pre_ping` pinged at every checkout, and the asyncpg dialect's ping is three round trips (BEGIN, an
    empty query, ROLLBACK): a third of a webhook message's waits on PostgreSQL. A connection that rested is
    the one a database restart or an idle-connection timeout may have killed; one in use a moment ago that died
    fails its first statement instead, SQLAlchemy then drops every connection of the pool made before that
    moment, and callers retry as for any unavailable database (the dispatcher for up to 2.5 s)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _rested_from(_dbapi_conn, record):  # pragma: no cover - exercised through every PostgreSQL test
        record.info["linli.checked_in"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_rested(dbapi_conn, record, _proxy):  # pragma: no cover - as above
        since = record.info.get("linli.checked_in")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # new (just connected) or used a moment ago
        try:
            dbapi_conn.ping()
        except Exception as error:
            raise DisconnectionError() from error  # the pool discards it and checks out another


def _sqlite_engine(url: str, echo: bool, read_only: bool = False, autocheckpoint: bool = True) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_folder(Path(database).parent)
        create_private(database)  # 0600: SQLite gives its -wal and -shm files the same mode
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        async_creator=sqlite_inline.creator(database or ":memory:", SQLITE_BUSY_TIMEOUT_MS / 1000),
        # Every unit of work ends its transaction itself; skipping the pool's extra ROLLBACK saves a thread hop
        # while the write lock is held.
        pool_reset_on_return=None,
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every SQLite test
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not autocheckpoint:  # a storage.wal.WalCheckpointer does it, off the event loop
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        # From here on SQLite must never sleep in its busy handler: calls run on the event loop's thread.
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    if read_only:
        @event.listens_for(sync_engine, "connect")
        def _read_only(dbapi_conn, _record):  # pragma: no cover - exercised through every SQLite test
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA query_only=ON")  # a write in a reading session fails loudly, never vanishes
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised through every SQLite test
        if read_only:
            conn.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(conn)

    return engine


def _begin_immediate(conn) -> None:
    """Take the write lock up front (a deferred transaction that later writes can fail half-way). When another
    process holds it, wait with asyncio sleeps, so the event loop keeps serving meanwhile. In WAL mode this is
    the only statement that can meet a busy database: reads never block and the lock holder commits freely.
    It goes straight to the sqlite3 connection (it runs for every write transaction; SQLAlchemy's execution
    path cost more than SQLite's BEGIN itself)."""
    raw = conn.connection.driver_connection._conn  # storage.sqlite_inline.InlineConnection → sqlite3
    waited = 0.0
    for delay in LOCK_WAIT.delays():
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or waited * 1000 >= SQLITE_BUSY_TIMEOUT_MS:
                raise OperationalError("BEGIN IMMEDIATE", (), error) from error
        await_only(asyncio.sleep(delay))
        waited += delay


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


_WRITE_LOCKS: dict[tuple[str, int], asyncio.Lock] = {}


def _shared_write_lock(url: str) -> "_LoopLocal":
    return _LoopLocal(str(Path(make_url(url).database or ":memory:").resolve()))


class _LoopLocal:
    """The asyncio lock for one database file in the running loop, shared by every `Database` on that file, so
    two engines in one process (tests, tools) queue on each other instead of deadlocking the loop."""

    def __init__(self, path: str):
        self.path = path

    async def __aenter__(self) -> None:
        key = (self.path, id(asyncio.get_running_loop()))
        lock = _WRITE_LOCKS.get(key)
        if lock is None:
            lock = _WRITE_LOCKS[key] = asyncio.Lock()
        self._lock = lock
        await lock.acquire()

    async def __aexit__(self, *exc) -> None:
        self._lock.release()


class Database:
    """The engine, its session factory, and the unit of work every caller uses.

    On SQLite one process writes at a time (an asyncio lock in front of `BEGIN IMMEDIATE`), so writers queue
    in memory instead of spinning in SQLite's busy handler; other processes still wait on the busy timeout.
    """

    def __init__(self, url: str, *, echo: bool = False, background_checkpoint: bool = False):
        """`background_checkpoint` (the web app's database): SQLite's automatic WAL checkpoints off, done by a
        thread from `start_checkpointing` on (storage.wal) instead of inside a request's COMMIT."""
        self.url = url
        self.is_sqlite = is_sqlite(url)
        path = make_url(url).database if self.is_sqlite else None
        self._wal_path = path if background_checkpoint and path and path != ":memory:" and not path.startswith(
            "file:") else None
        self._checkpointer: WalCheckpointer | None = None
        self.engine = create_engine(url, echo=echo, autocheckpoint=self._wal_path is None)
        self.sessions = session_factory(self.engine)
        self._write_lock = _shared_write_lock(url) if self.is_sqlite else None
        self.read_engine = create_engine(url, echo=echo, read_only=True) if self.is_sqlite else self.engine
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

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

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction: on SQLite it takes no write lock and runs beside writers (WAL). A write in it
        raises (SQLite `query_only`, PostgreSQL `READ ONLY`); nothing is ever committed."""
        async with self.read_sessions() as session:
            try:
                if not self.is_sqlite:
                    await session.execute(text("SET TRANSACTION READ ONLY"))
                yield session
            finally:
                await session.rollback()

    async def analyze(self) -> bool:
        """Refresh SQLite's planner statistics (`ANALYZE`, sampled: `analysis_limit` rows per index, so a big
        database takes milliseconds). Without them SQLite picks indexes blindly: the dashboard's ticket figures
        for one community scanned every ticket through the category index (45 ms) instead of the
        (community, created) one (8 ms). PostgreSQL's autovacuum keeps its own statistics: nothing to do there.
        Returns whether statistics were refreshed."""
        if not self.is_sqlite:
            return False
        async with self.transaction() as session:
            await session.execute(text(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}"))
            await session.execute(text("ANALYZE"))
        return True

    async def ping(self) -> None:
        await ping(self.read_engine)

    def start_checkpointing(self) -> None:
        """Start the background WAL checkpointer (a database made with `background_checkpoint`, on SQLite)."""
        if self._wal_path is not None and self._checkpointer is None:
            self._checkpointer = WalCheckpointer(self._wal_path).start()

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
