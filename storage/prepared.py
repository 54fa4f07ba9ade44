"""Statements built once and reused: the webhook's hot path runs the same few statements for every message.

SQLAlchemy compiles a statement once per shape, but a statement *built* per call (`select(...).where(x == v)`,
`insert(...).values(...)`) is re-validated and its cache key recomputed every time, and the ORM layers add their
own work on top: together several times the cost of running the SQL. A `Prepared` statement is built once per
dialect with `bindparam`s and runs on the session's connection, inside the session's transaction, without ORM
bookkeeping. SQLAlchemy's dialect `insert().on_conflict_do_update()` is not cacheable (recompiled every call), so
upserts here are typed `text()` statements (`typed_params`); ON CONFLICT … DO UPDATE reads the same on both engines.

On SQLite the statement is compiled once and then run straight on the `sqlite3` connection, with SQLAlchemy's own
bind and result processors applied: SQLite answers in microseconds, so SQLAlchemy's execution machinery (events,
execution context, greenlet hops) was most of the cost (profiled: ~150 µs of ~170 µs per statement). Driver
errors are raised as SQLAlchemy's exception classes, exactly as `connection.execute` would.

On PostgreSQL (asyncpg) the same holds for the CPU: SQLAlchemy's path cost ~400 µs of CPU per statement against
~130 µs for asyncpg alone (the round trip included). So the compiled statement runs on the asyncpg connection of
the session's transaction too: the transaction is begun as SQLAlchemy's asyncpg adapter begins it, the adapter's
own prepared-statement cache is used (one Parse per connection and statement, shared with SQLAlchemy's path),
errors are translated by the adapter and raised as SQLAlchemy's classes, and a connection found closed is
invalidated as SQLAlchemy would.
"""
from __future__ import annotations

import sqlite3
from typing import Any, Callable, Sequence, TypeVar, cast

from sqlalchemy import Table, bindparam, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.elements import BindParameter

from storage.db import affected


class Prepared:
    """`build(dialect_name)` → statement, called once per dialect; `await prepared.run(session, **params)`."""

    def __init__(self, build: Callable[[str], Executable]):
        self._build = build
        self._by_dialect: dict[str, Executable] = {}
        self._sqlite: _SqliteStatement | None = None
        self._asyncpg: _AsyncpgStatement | None = None

    def statement(self, dialect: str) -> Executable:
        stmt = self._by_dialect.get(dialect)
        if stmt is None:
            stmt = self._by_dialect[dialect] = self._build(dialect)
        return stmt

    async def run(self, session: AsyncSession, **params: Any) -> "Rows":
        cached = _cached_connection(session)
        if cached is not None:
            if self._sqlite is not None and isinstance(cached, sqlite3.Connection):
                return self._sqlite.run(cached, params)
            if self._asyncpg is not None and not isinstance(cached, sqlite3.Connection):
                return await self._asyncpg.run(cached, params)
        connection = await session.connection()
        dialect = connection.dialect
        if dialect.name == "sqlite":
            if self._sqlite is None:
                self._sqlite = _SqliteStatement(self.statement("sqlite"), dialect)
            return self._sqlite.run(_remember(session, _sqlite3_connection(connection)), params)
        if dialect.driver == "asyncpg":
            if self._asyncpg is None:
                self._asyncpg = _AsyncpgStatement(self.statement(dialect.name), dialect)
            return await self._asyncpg.run(_remember(session, _Asyncpg(connection)), params)
        result = await connection.execute(self.statement(dialect.name), params)
        return Rows(list(result.all()) if result.returns_rows else [], affected(result))


class Rows:
    """What a prepared statement returns: its rows (already type-processed) and the affected row count."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int):
        self.rows, self.rowcount = rows, rowcount

    def first(self) -> tuple | None:
        return self.rows[0] if self.rows else None


def typed_params(table: Table, *names: str) -> list[BindParameter]:
    """Bind parameters typed like `table`'s columns, for text() statements (UTC datetimes, JSON, enums)."""
    return [bindparam(name, type_=table.c[name].type) for name in names]


def _sqlite3_connection(connection: AsyncConnection) -> sqlite3.Connection:
    # the session's own DBAPI connection (storage.sqlite_inline.InlineConnection), so the same transaction
    raw: Any = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    return raw._conn


_CONNECTION_KEY = "linli.prepared.connection"
_Raw = TypeVar("_Raw")


def _remember(session: AsyncSession, raw: _Raw) -> _Raw:
    """The session's driver connection, remembered for the rest of its current transaction: asking the
    session for its connection again (a greenlet round trip) cost more than most statements here."""
    session.info[_CONNECTION_KEY] = (session.sync_session.get_transaction(), raw)
    return raw


def _cached_connection(session: AsyncSession) -> Any:
    """The remembered connection if the session is still in the transaction it was remembered in (a commit or
    rollback ends it; the next transaction may be given another connection)."""
    cached = session.info.get(_CONNECTION_KEY)
    if cached is None:
        return None
    transaction, raw = cached
    current = session.sync_session.get_transaction()
    if current is None or current is not transaction or not current.is_active:
        return None
    return raw


class _SqliteStatement:
    """One statement compiled for SQLite: its SQL, parameter order and SQLAlchemy's type processors."""

    def __init__(self, statement: Executable, dialect):
        # SQLCompiler internals (bind processors, positional order): typed loosely on purpose
        compiled: Any = cast(ClauseElement, statement).compile(dialect=dialect)
        self.sql = compiled.string
        processors = compiled._bind_processors
        self.binds = [(name, processors.get(name)) for name in compiled.positiontup or ()]
        self.results = [entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns]

    def run(self, conn: sqlite3.Connection, params: dict) -> Rows:
        values = [params[name] if process is None else process(params[name]) for name, process in self.binds]
        try:
            cursor = conn.execute(self.sql, values)
            rows = cursor.fetchall() if self.results else []
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(self.sql, values, error, sqlite3.Error) from error
        if rows:
            results = self.results
            rows = [tuple(v if p is None else p(v) for v, p in zip(row, results)) for row in rows]
        return Rows(rows, cursor.rowcount)


class _Asyncpg:
    """The session's connection as the asyncpg adapter (to run on) and SQLAlchemy's connection (to invalidate)."""

    __slots__ = ("adapter", "connection")

    def __init__(self, connection: AsyncConnection):
        self.connection = connection
        self.adapter: Any = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]


class _AsyncpgStatement:
    """One statement compiled for asyncpg: its SQL ($n placeholders), parameter order and type processors."""

    def __init__(self, statement: Executable, dialect):
        compiled: Any = cast(ClauseElement, statement).compile(dialect=dialect)
        self.sql = compiled.string
        self.dialect = dialect
        processors = compiled._bind_processors
        self.binds = [(name, processors.get(name)) for name in compiled.positiontup or ()]
        self.results = [entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns]

    async def run(self, conn: _Asyncpg, params: dict) -> Rows:
        adapter = conn.adapter
        values = [params[name] if process is None else process(params[name]) for name, process in self.binds]
        try:
            async with adapter._execute_mutex:
                if not adapter._started:  # the transaction's first statement: BEGIN as the adapter would
                    await adapter._start_transaction()
                prepared, _ = await adapter._prepare(self.sql, self.dialect._invalidate_schema_cache_asof)
                records = await prepared.fetch(*values)
                status = prepared.get_statusmsg()
        except Exception as error:
            raise await self._translated(conn, error, values) from error
        rows: list = records
        if records and self.results:
            results = self.results
            rows = [tuple(v if p is None else p(v) for v, p in zip(record, results)) for record in records]
        count = status.rsplit(" ", 1)[-1] if status else ""
        return Rows(rows, int(count) if count.isdigit() else -1)

    async def _translated(self, conn: _Asyncpg, error: Exception, values: list) -> Exception:
        """The error as `connection.execute` would raise it: the adapter's DBAPI class wrapped in SQLAlchemy's,
        the connection invalidated when it was found closed."""
        adapter, dbapi = conn.adapter, self.dialect.dbapi
        try:
            adapter._handle_exception(error)  # raises the translated DBAPI error
        except dbapi.Error as translated:
            error = translated
        except Exception as other:  # pragma: no cover - not a driver error: raised as it is
            return other
        closed = adapter._connection.is_closed()
        if closed:
            await conn.connection.invalidate()
        return exc.DBAPIError.instance(self.sql, values, error, dbapi.Error, connection_invalidated=closed)
