"""`linli db migrate-to URL`: copy a SQLite deployment into PostgreSQL when a community outgrows one machine.

Steps: the source must be a linli SQLite file at the latest migration and not in use (stop serve and worker
first); the target is migrated to the same schema and must be empty (`force` empties it); then every table is
copied in foreign-key order, in batches, inside ONE target transaction (a failure leaves the target as it was)
while the source is read in one read transaction (a consistent snapshot). Self-references (a ticket's
`duplicate_of_id`, a meeting item's `carried_from_id`) are filled in after their table is copied, so row order
never matters. JSON columns keep the difference between SQL NULL and JSON `null`. Then every PostgreSQL sequence is
set past the largest copied id, and the row counts of every table are compared.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import JSON, Table, bindparam, func, insert, literal, select, text, type_coerce, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.types import Text

from storage.backup import BackupError, in_use, inspect, sqlite_path

BATCH = 2000


class MigrateError(Exception):
    """The copy cannot start or failed; the message (Chinese) says why. Nothing was written to the target."""


@dataclass
class TableCount:
    name: str
    source: int
    target: int = -1
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass
class MigrationResult:
    tables: list[TableCount] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)  # sequence → next value
    skipped: list[str] = field(default_factory=list)  # source tables the schema does not know (not copied)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.equal for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.source for t in self.tables)


def _tables() -> list[Table]:
    from storage.schema import Base

    return list(Base.metadata.sorted_tables)


def _self_refs(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _json_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, JSON)]


def check_urls(source_url: str, target_url: str) -> Path:
    try:
        path = sqlite_path(source_url)
    except BackupError:
        raise MigrateError("源数据库须是 SQLite（LINLI_DATABASE_URL=sqlite+aiosqlite:///路径）") from None
    if not target_url.startswith("postgresql+asyncpg://"):
        raise MigrateError("目标须是 PostgreSQL 地址，例如 postgresql+asyncpg://linli:密码@db.example.internal/linli")
    return path


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def migrate(source_url: str, target_url: str, *, force: bool = False, batch: int = BATCH,
                  progress: Callable[[str], None] = lambda _line: None) -> MigrationResult:
    from storage.db import create_engine
    from storage.migrate import upgrade_async

    began = time.monotonic()
    if batch < 1:
        raise MigrateError("每批行数（--batch）应为正整数")
    path = check_urls(source_url, target_url)
    try:
        info = inspect(path)
    except BackupError as exc:
        raise MigrateError(str(exc)) from None
    if not info.at_head:
        raise MigrateError("源数据库不是最新结构：请先对它运行 linli db upgrade，再迁移")
    if in_use(path):
        raise MigrateError("源数据库正在被使用：请先停止 linli serve 与 linli worker（迁移期间的新数据不会被复制）")
    progress(f"升级目标数据库结构（{_safe(target_url)}）…")
    try:
        await upgrade_async(target_url)
    except (OSError, SQLAlchemyError) as exc:
        raise MigrateError(f"无法连接或升级目标数据库 {_safe(target_url)}：{_short(exc)}") from None
    except Exception as exc:  # alembic: the target carries a migration this code does not know
        raise MigrateError(f"目标数据库无法升级到本版本的结构：{_short(exc)}") from None

    tables = _tables()
    result = MigrationResult()
    source = create_engine(source_url, read_only=True)
    target = create_engine(target_url)
    try:
        async with source.connect() as src:
            await src.begin()  # one read transaction: a consistent snapshot of every table
            known = {t.name for t in tables} | {"alembic_version"}
            listed = await src.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'"))
            result.skipped = sorted(set(listed.scalars()) - known)
            for table in tables:
                result.tables.append(TableCount(table.name, await src.scalar(
                    select(func.count()).select_from(table)) or 0))
            try:
                async with target.begin() as dst:
                    await _check_empty(dst, tables, force, progress)
                    for table, count in zip(tables, result.tables):
                        started = time.monotonic()
                        await _copy_table(src, dst, table, batch)
                        count.seconds = time.monotonic() - started
                        if count.source:
                            progress(f"  {table.name}: {count.source} 行（{count.seconds:.1f} 秒）")
                    result.sequences = await _fix_sequences(dst, tables)
            except DBAPIError as exc:
                raise MigrateError(f"复制失败，目标数据库未写入任何数据（事务已回滚）：{_short(exc)}") from None
        async with target.connect() as dst:
            for table, count in zip(tables, result.tables):
                count.target = await dst.scalar(select(func.count()).select_from(table)) or 0
    finally:
        await source.dispose()
        await target.dispose()
    result.seconds = time.monotonic() - began
    return result


def _short(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return message[0][:300] if message else type(exc).__name__


async def _check_empty(dst, tables: list[Table], force: bool, progress) -> None:
    filled = []
    for table in tables:
        has = await dst.scalar(select(literal(1)).select_from(table).limit(1))
        if has is not None:
            filled.append(table.name)
    if not filled:
        return
    if not force:
        raise MigrateError(f"目标数据库已有数据（{'、'.join(filled[:8])}{' 等' if len(filled) > 8 else ''}），"
                           "为防止覆盖已停止；确认要清空目标库再复制，请加 --force")
    progress(f"清空目标数据库的 {len(filled)} 张表（--force）…")
    names = ", ".join(f'"{t.name}"' for t in tables)
    await dst.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def _copy_table(src, dst, table: Table, batch: int) -> None:
    self_refs, json_cols = _self_refs(table), set(_json_columns(table))
    columns = [type_coerce(c, Text).label(c.name) if c.name in json_cols else c for c in table.columns]
    stmt = insert(table).values({
        c.name: bindparam(c.name, type_=JSON(none_as_null=True) if c.name in json_cols else c.type)
        for c in table.columns})
    pk = list(table.primary_key.columns)
    later: list[dict] = []
    stream = await src.stream(select(*columns).order_by(*pk))
    async for part in stream.partitions(batch):
        rows = []
        for row in part:
            values = dict(row._mapping)
            for name in json_cols:
                values[name] = _json_value(values[name])
            for name in self_refs:
                if values[name] is not None:
                    later.append({"_pk": values[pk[0].name], "_ref": values[name], "_col": name})
                    values[name] = None
            rows.append(values)
        await dst.execute(stmt, rows)
    for name in self_refs:
        fills = [{"_pk": r["_pk"], "_ref": r["_ref"]} for r in later if r["_col"] == name]
        for start in range(0, len(fills), batch):
            await dst.execute(update(table).where(pk[0] == bindparam("_pk")).values({name: bindparam("_ref")}),
                              fills[start:start + batch])


def _json_value(raw):
    """Raw JSON text from SQLite → the value to bind: SQL NULL stays None, JSON null becomes JSON.NULL."""
    if raw is None:
        return None
    value = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    return JSON.NULL if value is None else value


async def _fix_sequences(dst, tables: list[Table]) -> dict[str, int]:
    """Every serial/identity column's sequence restarts after the largest copied value."""
    fixed = {}
    for table in tables:
        for column in table.primary_key.columns:
            sequence = await dst.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                        {"t": table.name, "c": column.name})
            if sequence is None:
                continue
            highest = await dst.scalar(select(func.max(column)))
            await dst.execute(text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                              {"s": sequence, "v": highest or 1, "called": highest is not None})
            fixed[sequence] = (highest or 0) + 1
    return fixed
