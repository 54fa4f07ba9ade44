"""`linli db backup` / `linli db restore` for SQLite deployments (PostgreSQL: pg_dump / pg_restore, see
`pg_instructions`).

Backup uses SQLite's online backup API in one step: one read transaction, so the copy is a consistent snapshot
while the server keeps writing (WAL: readers never block writers). Every copy is created 0600
(owner only). The copy is written to a temporary file next to
the destination, checked (`PRAGMA quick_check`, a linli schema at a known migration), switched to a
self-contained rollback journal, fsynced and renamed into place: a destination is either the old file or a whole
backup, never half of one.

Restore refuses while any process has the target open (it probes the locks SQLite holds for every open
connection), validates the backup the same way, keeps the current database as `<file>.before-restore-<time>`, and
swaps the new file in atomically (its old `-wal`/`-shm` removed, so no stale log is replayed onto it).
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.private_files import create_private, private_folder

SQLITE_HEADER = b"SQLite format 3\x00"
CORE_TABLES = ("residents", "communities", "processed_messages")
# Unix VFS lock bytes: every connection holds a shared lock on the database file's SHARED range while in WAL mode
# (and during reads otherwise), and on the "dead man switch" byte of the -shm file while it is open.
_SHARED_FIRST = 0x40000000 + 2
_SHARED_SIZE = 510
_SHM_DMS = 128


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (Chinese) says why and what to do."""


@dataclass(frozen=True)
class DatabaseInfo:
    path: Path
    revisions: tuple[str, ...]
    at_head: bool
    tables: int
    residents: int

    def describe(self) -> str:
        state = "最新结构" if self.at_head else "旧版本结构（恢复后请运行 linli db upgrade）"
        return f"{self.tables} 张表，居民 {self.residents} 人，迁移版本 {', '.join(self.revisions)}（{state}）"


@dataclass(frozen=True)
class Copied:
    path: Path
    bytes: int
    seconds: float
    info: DatabaseInfo
    previous: Path | None = None  # restore: where the replaced database was kept


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        raise BackupError("该命令只用于 SQLite 数据库文件")
    return Path(str(parsed.database))


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def pg_instructions(url: str, action: str) -> str:
    """What to run instead on PostgreSQL (Chinese), with the connection filled in from `url`."""
    parsed = make_url(url)
    conn = f"-h {parsed.host or '127.0.0.1'} -p {parsed.port or 5432} -U {parsed.username or 'postgres'}"
    name = parsed.database or "linli"
    lines = [f"当前数据库是 PostgreSQL（{parsed.render_as_string(hide_password=True)}），"
             f"{'备份' if action == 'backup' else '恢复'}请使用 PostgreSQL 自带的工具："]
    if action == "backup":
        lines += [f"  pg_dump {conn} -d {name} -Fc -f linli-$(date +%Y%m%d-%H%M).dump",
                  "  （-Fc 为压缩的自定义格式；在线执行，不影响服务；密码可用 PGPASSWORD 环境变量或 ~/.pgpass 提供）"]
    else:
        lines += ["  先停止 linli serve 与 linli worker，然后：",
                  f"  pg_restore {conn} -d {name} --clean --if-exists --no-owner --single-transaction 备份文件.dump",
                  "  恢复后运行 linli db upgrade，再启动服务。"]
    lines.append("详见 README「运行在多台机器上」一节。")
    return "\n".join(lines)


# ---- checks ----
def in_use(path: Path) -> bool:
    """True when another process has the SQLite file open (probes the byte-range locks SQLite holds).

    POSIX record locks belong to the process: call this only from a process with no open connection to `path`
    (closing the probe's file descriptor would drop that process's own SQLite locks)."""
    for target, start, size in ((path, _SHARED_FIRST, _SHARED_SIZE), (Path(f"{path}-shm"), _SHM_DMS, 1)):
        try:
            fd = os.open(target, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, size, start)
            fcntl.lockf(fd, fcntl.LOCK_UN, size, start)
        except OSError:
            return True
        finally:
            os.close(fd)
    return False


def _applied(revisions: tuple[str, ...]) -> tuple[set[str], set[str] | None]:
    """(every revision this code knows, every revision the recorded `revisions` imply — None if one is unknown).
    The implied set follows down-revisions and `depends_on`, which Alembic leaves out of the version table."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if not revisions or any(r not in known for r in revisions):
        return known, None
    try:
        return known, {rev.revision for rev in script.revision_map.iterate_revisions(revisions, "base")}
    except CommandError:
        return known, None


def inspect(path: Path) -> DatabaseInfo:
    """Check that `path` is a sound linli SQLite database at a migration this code knows; BackupError if not."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到文件：{path}")
    with open(path, "rb") as f:
        if f.read(16) != SQLITE_HEADER:
            raise BackupError(f"{path} 不是 SQLite 数据库文件")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{path} 已损坏（quick_check：{check}）")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in ("alembic_version", *CORE_TABLES) if t not in tables]
        if missing:
            raise BackupError(f"{path} 不是邻里的数据库（缺少表：{'、'.join(missing)}）")
        revisions = tuple(sorted(r for (r,) in conn.execute("SELECT version_num FROM alembic_version")))
        residents = conn.execute("SELECT COUNT(*) FROM residents").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"无法读取 {path}：{exc}") from None
    finally:
        conn.close()
    known, applied = _applied(revisions)
    if applied is None:
        unknown = [r for r in revisions if r not in known]
        raise BackupError(f"{path} 的迁移版本 {', '.join(unknown) or '（空）'} 不是本版本 linli 所知的；"
                          "请用创建它的 linli 版本操作")
    return DatabaseInfo(path, revisions, applied == known, len(tables), residents)


# ---- copying ----
def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: Path, dest: Path) -> None:
    """Online-backup `source` into a new temporary file, then rename it to `dest` (atomic, fsynced)."""
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    create_private(tmp)  # 0600 before a byte is written: the copy holds residents' data
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # all pages in one step: one read transaction, a consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file (the source's WAL flag is copied)
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
        if check != "ok":
            raise BackupError(f"备份副本校验失败（quick_check：{check}），未写入 {dest}")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        src.close()
        tmp.unlink(missing_ok=True)


def backup(url: str, dest: Path, *, overwrite: bool = False) -> Copied:
    """Copy the live SQLite database of `url` to `dest` (a consistent snapshot; the server keeps running)."""
    source, dest = sqlite_path(url), Path(dest)
    if not source.is_file():
        raise BackupError(f"数据库文件不存在：{source}")
    inspect(source)
    if dest.resolve() == source.resolve():
        raise BackupError("备份文件不能是数据库文件本身")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} 已存在；换一个文件名，或加 --force 覆盖")
    private_folder(dest.parent)
    began = time.monotonic()
    _copy(source, dest)
    return Copied(dest, dest.stat().st_size, time.monotonic() - began, inspect(dest))


def restore(src: Path, url: str) -> Copied:
    """Replace the SQLite database of `url` with the backup `src`; the current file is kept beside it."""
    src, target = Path(src), sqlite_path(url)
    info = inspect(src)
    if target.exists() and src.resolve() == target.resolve():
        raise BackupError("备份文件就是当前数据库文件本身")
    busy = "数据库正在被使用（linli serve、linli worker 或其他进程打开着它），请先停止它们再恢复"
    if in_use(target):
        raise BackupError(busy)
    private_folder(target.parent)
    began = time.monotonic()
    previous = None
    if target.exists():
        conn = sqlite3.connect(target)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the log into the file before keeping it
        finally:
            conn.close()
        previous = target.with_name(f"{target.name}.before-restore-{datetime.now():%Y%m%d-%H%M%S}")
        _copy(target, previous)
    tmp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    try:
        _copy(src, tmp)
        if in_use(target):  # someone opened it meanwhile
            raise BackupError(busy)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
            leftover.unlink(missing_ok=True)  # a stale log must never be replayed onto the restored file
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return Copied(target, target.stat().st_size, time.monotonic() - began, info, previous)
