"""Files holding residents' data are readable by their owner only: a new SQLite database with its -wal and -shm
files, and `linli db backup` / `linli db restore` copies (0600 even under a permissive umask)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.backup import backup, restore
from storage.db import Database
from storage.migrate import upgrade_async


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    old = os.umask(0o022)  # the usual default: files 0644 unless created otherwise
    yield
    os.umask(old)


async def test_a_new_database_and_its_wal_and_shm_are_private(tmp_path, permissive_umask):
    path = tmp_path / "data" / "linli.db"
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
        for name in ("linli.db", "linli.db-wal", "linli.db-shm"):
            assert (path.parent / name).exists(), name
            assert mode(path.parent / name) == 0o600, (name, oct(mode(path.parent / name)))
        assert mode(path.parent) == 0o700
    finally:
        await db.dispose()


async def test_backups_and_restores_are_private(tmp_path, permissive_umask):
    path = tmp_path / "linli.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    assert mode(path) == 0o600
    copied = backup(url, tmp_path / "backups" / "linli-1.db")
    assert mode(copied.path) == 0o600 and mode(copied.path.parent) == 0o700
    os.chmod(path, 0o644)  # an old deployment's database: the copy kept of it is private all the same
    done = restore(copied.path, url)
    assert mode(path) == 0o600 and done.previous is not None and mode(done.previous) == 0o600
