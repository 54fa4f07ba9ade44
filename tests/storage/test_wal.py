"""The web app's SQLite database folds its write-ahead log into the file from a thread (storage.wal), not inside a
request's COMMIT on the event loop; other databases keep SQLite's automatic checkpoints."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import Database


async def _autocheckpoint(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()


async def _write(db: Database, rows: int) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS wal_probe (id INTEGER PRIMARY KEY, body TEXT)"))
    for start in range(0, rows, 100):
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO wal_probe (body) VALUES (:b)"),
                                  [{"b": "邻里" * 200} for _ in range(start, min(rows, start + 100))])


async def test_the_web_apps_database_checkpoints_in_the_background(sqlite_url):
    db = Database(sqlite_url, background_checkpoint=True)
    try:
        assert await _autocheckpoint(db) == 0  # no COMMIT of a request copies the log into the file
        await _write(db, 3000)  # ~2.4 MB of log
        db.start_checkpointing()
        checkpointer = db._checkpointer
        assert checkpointer is not None
        for _ in range(100):
            if checkpointer.checkpoints >= 1:
                break
            await asyncio.sleep(0.05)
        assert checkpointer.checkpoints >= 1 and checkpointer.last is not None
        busy, in_log, copied = checkpointer.last  # the thread copied the whole log (every write was still in it)
        assert busy == 0 and in_log > 500 and copied == in_log, checkpointer.last
        async with db.reading() as session:
            assert (await session.execute(text("SELECT COUNT(*) FROM wal_probe"))).scalar_one() == 3000
    finally:
        await db.dispose()
    assert not checkpointer._thread.is_alive()  # stopped with the database


async def test_other_databases_keep_sqlites_automatic_checkpoints(sqlite_url):
    db = Database(sqlite_url)
    try:
        assert await _autocheckpoint(db) == 1000
        db.start_checkpointing()  # nothing to start: not the web app's database
        assert db._checkpointer is None
    finally:
        await db.dispose()
