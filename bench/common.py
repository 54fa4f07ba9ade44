"""Shared benchmark plumbing: start servers as subprocesses, wait for them, measure latencies."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


@contextmanager
def process(args: list[str], env: dict[str, str] | None = None, ready_url: str | None = None,
            log: Path | None = None):
    """A server subprocess, stopped at the end. Its stderr goes to `log` (or nowhere): never to an unread pipe,
    which fills under load and stalls the server."""
    with open(log, "wb") if log else open(os.devnull, "wb") as err:
        proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            if ready_url:
                wait_http(ready_url)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def linli(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "-m", "bot.cli", *args], env={**os.environ, **env}, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (the workers of `serve --workers N`):
    a server's cost per message that, unlike wall-clock throughput, barely moves when the machine is shared."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        todo.extend(children.get(current, []))
    return total


# ---- PostgreSQL: a fresh database per run ----
PG_ADMIN = os.environ.get("LINLI_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def pg_admin(sql: str, url: str = PG_ADMIN) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def new_database(prefix: str, admin: str = PG_ADMIN) -> tuple[str, str]:
    """A fresh database named `<prefix>_<pid of this bench>_<random>`: whether its owner still runs is visible."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"', admin))
    return admin.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(name: str, admin: str = PG_ADMIN) -> None:
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin))


@contextmanager
def bench_database(prefix: str, *, postgres: bool = False, url: str | None = None):
    """The database URL of one benchmark run: a fresh PostgreSQL database (dropped afterwards), the given URL, or
    a temporary SQLite file (removed afterwards)."""
    if postgres:
        url, name = new_database(prefix)
        try:
            yield url
        finally:
            drop_database(name)
    elif url:
        yield url
    else:
        with tempfile.TemporaryDirectory(prefix=prefix.replace("_", "-") + "-") as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/bench.db"


class TimedChat:
    """Residents chatting through the webhook for a load bench: `say` sends one signed text and returns the reply's
    text ('' when none came back in time); the latency of every answered request and the number of failed ones
    are kept for the report."""

    def __init__(self, sim) -> None:
        self.sim = sim  # bot.simulator.WeChatSimulator on the bench's aiohttp session
        self.latencies: list[float] = []
        self.failures = 0

    async def say(self, openid: str, text: str) -> str:
        import aiohttp

        start = time.perf_counter()
        try:
            reply = await self.sim.text(openid, text)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            self.failures += 1
            return ""
        self.latencies.append(time.perf_counter() - start)
        return reply.text or "" if reply.status == 200 else ""
