"""Operations tests: real `linli` processes (serve --workers, worker, db backup/restore/migrate-to) on SQLite and
PostgreSQL. Helpers start a process with a clean environment, wait for it, and stop it by its own pid."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from storage.db import Database
from storage.repositories.org import load_demo

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(db_url: str, **extra: str) -> dict[str, str]:
    """The test process's environment without any LINLI_/WECHAT_ setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env.update(LINLI_DATABASE_URL=db_url, LINLI_WECHAT_API_BASE="http://127.0.0.1:9", LINLI_LOG_LEVEL="INFO")
    env.update(extra)
    return env


@dataclass
class Proc:
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def start(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> Proc:
    out = open(log, "ab")
    try:
        popen = subprocess.Popen([sys.executable, *args], env=env, cwd=cwd, stdout=out, stderr=out)
    finally:
        out.close()
    return Proc(popen, log)


async def health(port: int, session: aiohttp.ClientSession) -> dict | None:
    try:
        async with session.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
            return json.loads(await r.text()) if r.status == 200 else None
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return None


def fresh_connections() -> aiohttp.ClientSession:
    """A client that opens a new connection per request, so SO_REUSEPORT can pick another worker each time."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))


async def wait_for(predicate, timeout: float, step: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def pids_answering(port: int, want: int, timeout: float = 60) -> set[int]:
    """Probe /healthz on fresh connections until `want` distinct worker pids have answered."""
    seen: set[int] = set()
    async with fresh_connections() as session:
        async def enough():
            for _ in range(20):
                found = await health(port, session)
                if found:
                    seen.add(found["pid"])
            return len(seen) >= want
        await wait_for(enough, timeout, what=f"{want} workers answering on port {port}")
    return seen


def children(pid: int) -> set[int]:
    try:
        raw = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(p) for p in raw.split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (killed, not yet reaped) is not alive; the process may be reaped while we look
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return not state.startswith("Z")


@pytest.fixture
async def demo_db(db_url):
    """`db_url` with the demo organisation loaded (engine disposed again: processes under test own the file)."""
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
    finally:
        await db.dispose()
    return db_url


@pytest.fixture
def procs():
    """Processes started by a test; any still running at the end are stopped (SIGTERM, then SIGKILL)."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop(timeout=30)
