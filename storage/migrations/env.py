"""Alembic environment: runs migrations over the async engine configured by `storage.migrate`.

On SQLite, migrations run with foreign keys off (SQLite's own advice for table rebuilds: Alembic's batch mode drops
and re-creates a table, and with foreign keys on, dropping `residents` would fire the ON DELETE actions of every
table that references it); `PRAGMA foreign_key_check` then refuses to commit a migration that broke a reference.
"""
from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left broken references: {broken[:5]}")


def _foreign_keys_off(engine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _off(dbapi_conn, _record):  # runs after storage.db's own connect hook turned them on
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()


async def _run_async() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "sqlite":
        _foreign_keys_off(engine)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
