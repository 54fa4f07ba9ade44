"""`linli db backup` / `linli db restore` (SQLite): a live backup while a real server writes is a consistent
snapshot; restore refuses while the file is in use and anything that is not a linli database at a known
migration, keeps the replaced database, and the restored file serves again. PostgreSQL gets pg_dump advice."""
from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.simulator import WeChatSimulator
from storage.backup import inspect
from storage.db import Database
from storage.repositories.org import load_demo
from tests.ops.conftest import clean_env, free_port, start

BASE = Settings()


async def cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "db", *args, cwd=cwd, env=clean_env(url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def counts(path: Path) -> tuple[int, int]:
    """(residents, processed messages) of the live-writer residents `o_live…` in the file at `path`."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        residents = conn.execute("SELECT COUNT(*) FROM residents WHERE openid LIKE 'o_live%'").fetchone()[0]
        handled = conn.execute("SELECT COUNT(*) FROM processed_messages WHERE openid LIKE 'o_live%'").fetchone()[0]
        return residents, handled
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
async def live_db(sqlite_url) -> tuple[str, Path]:
    db = Database(sqlite_url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
    finally:
        await db.dispose()
    return sqlite_url, Path(sqlite_url.split(":///", 1)[1])


async def test_live_backup_is_a_consistent_snapshot_and_restore_round_trips(live_db, tmp_path, procs):
    url, path = live_db
    port = free_port()
    server = start(["-m", "bot.cli", "serve", "--port", str(port)], clean_env(url), tmp_path / "serve.log", tmp_path)
    procs.append(server)
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", BASE.wechat_token, BASE.wechat_appid)
    stop = asyncio.Event()
    sent = 0

    async def writer():  # every message: a new resident and its processed-message row, in one transaction
        nonlocal sent
        while not stop.is_set():
            reply = await sim.text(f"o_live_{sent:05d}", "帮助")
            assert reply.status == 200
            sent += 1

    try:
        for _ in range(300):  # wait for the server
            try:
                await sim.text("o_warmup", "帮助")
                break
            except OSError:
                await asyncio.sleep(0.1)
        writing = asyncio.create_task(writer())
        backups = []
        for i in range(3):
            await asyncio.sleep(0.7)
            target = tmp_path / f"backup-{i}.db"
            done = await cli(url, "backup", str(target), cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert "已备份到" in done.stdout
            backups.append(target)
        refused = await cli(url, "restore", str(backups[0]), cwd=tmp_path)  # the server still has it open
        stop.set()
        await writing
    finally:
        await sim.close()
    assert refused.returncode == 1 and "正在被使用" in refused.stderr and "数据库未改动" in refused.stderr

    seen = [counts(b) for b in backups]
    for residents, handled in seen:
        assert residents == handled  # each resident row committed with its message: no torn snapshot
    assert 0 < seen[0][0] <= seen[1][0] <= seen[2][0] <= sent
    assert seen[2][0] > seen[0][0], "writes went on during the backups"
    for b in backups:
        assert inspect(b).at_head
        assert not Path(f"{b}-wal").exists()  # self-contained files

    assert server.stop() == 0
    before = counts(path)
    assert before[0] == sent
    done = await cli(url, "restore", str(backups[0]), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert counts(path) == seen[0]
    kept = list(path.parent.glob(f"{path.name}.before-restore-*"))
    assert len(kept) == 1 and counts(kept[0]) == before  # the replaced database is kept, WAL folded in

    port = free_port()  # the restored database serves again, and takes new writes
    again = start(["-m", "bot.cli", "serve", "--port", str(port)], clean_env(url), tmp_path / "serve2.log", tmp_path)
    procs.append(again)
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", BASE.wechat_token, BASE.wechat_appid)
    try:
        for _ in range(300):
            try:
                reply = await sim.text("o_live_after", "帮助")
                break
            except OSError:
                await asyncio.sleep(0.1)
        assert reply.status == 200 and "投诉" in reply.text
    finally:
        await sim.close()
    assert again.stop() == 0
    assert counts(path) == (seen[0][0] + 1, seen[0][1] + 1)


async def test_restore_refuses_what_is_not_a_linli_database(live_db, tmp_path):
    url, path = live_db
    original = digest(path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    future = tmp_path / "future.db"
    assert (await cli(url, "backup", str(future), cwd=tmp_path)).returncode == 0
    conn = sqlite3.connect(future)
    conn.execute("UPDATE alembic_version SET version_num = 'zzzz_future' "
                 "WHERE version_num = (SELECT MIN(version_num) FROM alembic_version)")
    conn.commit()
    conn.close()
    cases = {junk: "不是 SQLite 数据库文件", other: "不是邻里的数据库", future: "zzzz_future",
             tmp_path / "missing.db": "找不到文件"}
    for source, reason in cases.items():
        done = await cli(url, "restore", str(source), cwd=tmp_path)
        assert done.returncode == 1 and reason in done.stderr, (source, done.stderr)
        assert "Traceback" not in done.stderr
    assert digest(path) == original


async def test_backup_does_not_overwrite_without_force(live_db, tmp_path):
    url, _ = live_db
    target = tmp_path / "b.db"
    target.write_text("precious")
    done = await cli(url, "backup", str(target), cwd=tmp_path)
    assert done.returncode == 1 and "--force" in done.stderr and target.read_text() == "precious"
    done = await cli(url, "backup", str(target), "--force", cwd=tmp_path)
    assert done.returncode == 0 and inspect(target).residents == 0
    assert not list(tmp_path.glob(".b.db.tmp-*"))  # no temporary file left behind


async def test_postgresql_points_to_pg_dump_and_pg_restore(tmp_path):
    url = "postgresql+asyncpg://linli:secret@db.internal:5433/linli"
    backup = await cli(url, "backup", str(tmp_path / "x.dump"), cwd=tmp_path)
    assert backup.returncode == 1 and "pg_dump -h db.internal -p 5433 -U linli -d linli" in backup.stderr
    assert "secret" not in backup.stderr
    restore = await cli(url, "restore", str(tmp_path / "x.dump"), cwd=tmp_path)
    assert restore.returncode == 1 and "pg_restore" in restore.stderr and "先停止" in restore.stderr


async def test_an_older_backup_is_restored_with_a_hint_to_upgrade(live_db, tmp_path):
    url, path = live_db
    older = tmp_path / "older.db"
    assert (await cli(url, "backup", str(older), cwd=tmp_path)).returncode == 0
    conn = sqlite3.connect(older)  # as if made before the newest feature migration
    conn.execute("DELETE FROM alembic_version WHERE version_num = (SELECT MAX(version_num) FROM alembic_version)")
    conn.commit()
    conn.close()
    assert not inspect(older).at_head
    done = await cli(url, "restore", str(older), cwd=tmp_path)
    assert done.returncode == 0 and "linli db upgrade" in done.stdout
    migrate = await cli(url, "migrate-to", "postgresql+asyncpg://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert migrate.returncode == 1 and "不是最新结构" in migrate.stderr
