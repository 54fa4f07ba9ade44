"""`linli serve --workers N`: N real processes on one port, restarted when killed, stopped together; bad values
and a port in use stop the start with a clear message; workers that crash at start make it give up."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.settings import Settings, SettingsError
from bot.simulator import WeChatSimulator
from bot.workers import Supervisor, workers_from
from storage.db import Database
from storage.models import ProcessedMessage
from tests.ops.conftest import alive, children, clean_env, free_port, fresh_connections, pids_answering, start, wait_for

BASE = Settings()


def test_worker_count_is_validated_with_a_clear_message():
    assert workers_from(None, BASE) == 1
    assert workers_from(None, BASE.with_env({"LINLI_WORKERS": "4"})) == 4
    assert workers_from("2", BASE.with_env({"LINLI_WORKERS": "4"})) == 2  # the command line wins
    for bad in ("0", "-1", "abc", "65", "1.5"):
        with pytest.raises(SettingsError) as err:
            BASE.with_env({"LINLI_WORKERS": bad})
        assert "LINLI_WORKERS" in str(err.value) and "1–64" in str(err.value)
        with pytest.raises(SettingsError) as err:
            workers_from(bad, BASE)
        assert "--workers" in str(err.value)


@pytest.mark.parametrize("args,env,expected", [
    (["--workers", "0"], {}, "--workers=0"),
    ([], {"LINLI_WORKERS": "lots"}, "LINLI_WORKERS=lots"),
])
def test_serve_refuses_a_bad_worker_count(tmp_path, sqlite_url, args, env, expected):
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", *args], cwd=tmp_path, capture_output=True,
                          text=True, env=clean_env(sqlite_url, **env), timeout=60)
    assert done.returncode == 2
    assert expected in done.stderr and "工作进程数" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_a_port_in_use(tmp_path, sqlite_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--workers", "2", "--port", str(port)],
                              cwd=tmp_path, capture_output=True, text=True, env=clean_env(sqlite_url), timeout=60)
    assert done.returncode == 2 and "已被占用" in done.stderr


def test_workers_crashing_at_start_make_the_supervisor_give_up(tmp_path, sqlite_url):
    # a bad ticket SLA map passes the settings' own checks (it is text there) but stops every worker's app at start
    env = clean_env(sqlite_url, LINLI_TICKET_RESOLVE_DAYS="community:soon")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--workers", "2", "--port", str(free_port())],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert "连续 3 次启动后立即退出" in done.stderr and "resolve_days" in done.stderr  # the worker's own reason


def test_a_worker_that_dies_before_listening_is_a_crash_at_start_however_slow(monkeypatch):
    # on a loaded machine a broken worker can take longer than START_SECONDS to die: it never said "listening"
    # on its pipe, so it still counts as crashing at start and the supervisor gives up instead of flapping
    slow_crash = [sys.executable, "-c", "import time, sys; time.sleep(0.6); sys.exit(3)"]
    settings = BASE.with_env({"LINLI_PORT": str(free_port())})
    sup = Supervisor(settings, 1, command=slow_crash, start_seconds=0.1, start_failures=2)
    assert sup.run() == 1
    assert len(sup.slots[0].pids) == 2


def test_a_worker_that_listened_and_lived_is_restarted_without_counting_a_crash_at_start():
    # this one says "listening" on the supervisor's pipe, then exits after START_SECONDS: an ordinary death
    ready_then_exit = [sys.executable, "-c", "import os, time, sys; fd = int(os.environ['LINLI_WORKER_READY_FD']); "
                       "os.write(fd, b'1'); time.sleep(0.4); sys.exit(3)"]
    settings = BASE.with_env({"LINLI_PORT": str(free_port())})
    sup = Supervisor(settings, 1, command=ready_then_exit, start_seconds=0.1, start_failures=2)

    def stop_after_three(signum=signal.SIGTERM):
        import threading

        def watch():
            while len(sup.slots[0].pids) < 3:
                threading.Event().wait(0.05)
            sup.stop_signal = signum
        threading.Thread(target=watch, daemon=True).start()

    stop_after_three()
    assert sup.run() == 0  # never gave up: three ordinary deaths, each restarted at once
    assert len(sup.slots[0].pids) >= 3


async def _say_many(port: int, n: int, prefix: str) -> list[str]:
    """n residents say 帮助 on fresh connections; returns the reply texts."""
    async with fresh_connections() as http:
        sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", BASE.wechat_token, BASE.wechat_appid, session=http)
        replies = await asyncio.gather(*(sim.text(f"{prefix}{i:04d}", "帮助") for i in range(n)))
    assert all(r.status == 200 for r in replies), [r.status for r in replies]
    return [r.text or "" for r in replies]


async def test_two_workers_share_the_port_survive_kill_9_and_stop_on_sigterm(demo_db, tmp_path, procs):
    port = free_port()
    # the workers also run the in-web delivery role: exactly one of them may hold the scheduler lease
    env = clean_env(demo_db, LINLI_DELIVERY_IN_WEB="1")
    sup = start(["-m", "bot.cli", "serve", "--workers", "2", "--port", str(port)], env, tmp_path / "serve.log",
                tmp_path)
    procs.append(sup)

    pids = await pids_answering(port, 2)
    assert pids == children(sup.pid), "both answering processes are the supervisor's workers"
    replies = await _say_many(port, 40, "o_two_")
    assert all("投诉" in r for r in replies)  # the help text lists the features
    for _ in range(4):  # whichever worker answers /metrics reports the figures of both
        assert await _replied_total(port) == 40
    db = Database(demo_db)
    try:
        async with db.reading() as session:
            handled = await session.scalar(select(ProcessedMessage.id).where(ProcessedMessage.openid == "o_two_0039"))
        assert handled is not None

        async def one_leader():
            from storage.delivery_models import DeliveryLease

            async with db.reading() as session:
                lease = await session.get(DeliveryLease, "scheduler")
                return lease and lease.lease_until is not None and int(lease.owner.split(":")[1])
        leader = await wait_for(one_leader, 30, what="a scheduler lease holder")
        assert leader in pids
    finally:
        await db.dispose()

    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)
    await wait_for(lambda: _ready(not alive(victim)), 10, what="the killed worker to be gone")
    now_serving = await pids_answering(port, 2)
    assert victim not in now_serving and len(now_serving) == 2 and sup.popen.poll() is None
    assert now_serving == children(sup.pid)
    assert "killed by SIGKILL" in sup.output()  # the operator log (English)
    replies = await _say_many(port, 20, "o_after_")
    assert all("投诉" in r for r in replies)

    assert sup.stop(signal.SIGTERM, timeout=40) == 0
    assert not any(alive(p) for p in now_serving)
    assert "stopped all 2 workers" in sup.output()


async def _replied_total(port: int) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    async with fresh_connections() as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            text = await resp.text()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "linli_webhook_messages_total" and sample.labels.get("outcome") == "replied")


async def _ready(value):
    return value


async def test_workers_stop_when_the_supervisor_is_killed(sqlite_url, tmp_path, procs):
    port = free_port()
    sup = start(["-m", "bot.cli", "serve", "--workers", "2", "--port", str(port)], clean_env(sqlite_url),
                tmp_path / "serve.log", tmp_path)
    procs.append(sup)
    pids = await pids_answering(port, 2)
    sup.stop(signal.SIGKILL)
    await wait_for(lambda: _ready(not any(alive(p) for p in pids)), 30, what="orphaned workers to stop")
