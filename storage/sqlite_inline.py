"""An aiosqlite-shaped connection that runs SQLite calls directly on the event loop's thread.

aiosqlite hands every call (cursor, execute, fetch, close: three or four per statement) to a worker thread and
back, ~100–250 µs each, while our write lock is held; a webhook transaction of six statements then spends most
of its time in thread hand-offs. SQLite on a local file answers these calls in microseconds, so linli runs them
inline instead (SQLAlchemy's `async_creator` hook). Writers in one process never wait on SQLite's busy handler
because `Database` serialises them with an asyncio lock first; only another process holding the write lock
can make a call wait (up to the busy timeout).
"""
from __future__ import annotations

import sqlite3
from typing import Any, Iterable


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    @property
    def description(self):
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def execute(self, sql: str, parameters: Any = ()) -> "InlineCursor":
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Any]) -> "InlineCursor":
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size) if size else self._cursor.fetchmany()

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """The subset of `aiosqlite.Connection` that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @property
    def isolation_level(self):
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return InlineCursor(self._conn.execute(sql, parameters))

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    def stop(self) -> None:  # SQLAlchemy's terminate(): nothing runs in the background
        self._conn.close()


def creator(database: str, timeout: float):
    """An `async_creator` for `create_async_engine` opening `database` in autocommit mode (we send BEGIN)."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(database, timeout=timeout, isolation_level=None, check_same_thread=False)
        return InlineConnection(conn)

    return connect
