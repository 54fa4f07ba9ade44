"""`linli serve --workers N`: a small supervisor that runs N web worker processes on one port.

Each worker is an ordinary `linli serve` process (`python -m bot.workers --child`) whose listening socket has
SO_REUSEPORT set, so the kernel spreads new connections over the N sockets of the same address; nothing is shared
between workers except the database. The supervisor (this process, which serves no requests itself):

- checks the port is free, then starts the workers, each in its own process group (Ctrl+C reaches only the
  supervisor, which forwards one SIGTERM to each worker: no double signal during a worker's graceful stop);
- restarts a worker that dies (logged with its exit status); a worker that dies before it listens (it reports
  readiness on a pipe once its socket is open, however long its start took on a loaded machine) or within
  `START_SECONDS` of its start counts as crashing at start, is restarted after a growing pause, and after
  `START_FAILURES` such crashes in a row the supervisor stops everything and exits 1 (a broken deployment must not
  flap forever);
- on SIGTERM/SIGINT stops every worker gracefully (in-flight requests finish), SIGKILL after `STOP_SECONDS`.
Workers notice a vanished supervisor (`kill -9` of the parent) and stop by themselves.

`LINLI_WORKERS` (or `--workers`) sets N; 1 runs the single-process `linli serve` without a supervisor.
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

from bot.metrics import MULTIPROCESS_ENV
from bot.settings import Settings, SettingsError

log = logging.getLogger("linli.workers")

START_SECONDS = 10.0  # a worker dying before it listens, or sooner than this after its start, "crashes at start"
START_FAILURES = 3  # consecutive crashes at start (of one worker slot) before giving up
STOP_SECONDS = 30.0  # SIGTERM → wait this long → SIGKILL
WORKER_SHUTDOWN_SECONDS = 20.0  # aiohttp's grace for in-flight requests inside a worker (< STOP_SECONDS)
POLL_SECONDS = 0.2
INDEX_ENV = "LINLI_WORKER_INDEX"
READY_FD_ENV = "LINLI_WORKER_READY_FD"  # the write end of the pipe on which a worker says "listening"


def workers_from(cli_value: str | None, settings: Settings) -> int:
    """`--workers` when given (checked like LINLI_WORKERS), else LINLI_WORKERS (default 1)."""
    if cli_value is None:
        return settings.workers
    try:
        return settings.with_env({"LINLI_WORKERS": cli_value}).workers
    except SettingsError as exc:
        raise SettingsError([p.replace("LINLI_WORKERS=", "--workers=") for p in exc.problems]) from None


def port_problem(host: str, port: int) -> str | None:
    """None when host:port can be listened on; else why not (Chinese). The probe sets no SO_REUSEPORT, so it also
    fails when another `linli serve --workers` (or anything else) already listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like aiohttp: TIME_WAIT leftovers are fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"端口 {host}:{port} 已被占用（可能已有 linli serve 在运行），请换用 --port 或先停止占用的进程"
            return f"无法监听 {host}:{port}：{exc.strerror or exc}"
    return None


@dataclass
class Slot:
    """One worker position: its current process, when it started, and its run of crashes at start."""

    index: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    ready_pipe: int | None = None  # read end; the worker writes one byte once its socket listens
    ready: bool = False
    early_crashes: int = 0
    restart_at: float = 0.0
    pids: list[int] = field(default_factory=list)  # every pid this slot has had (tests, drills)


class Supervisor:
    def __init__(self, settings: Settings, count: int, *, command: list[str] | None = None,
                 start_seconds: float = START_SECONDS, start_failures: int = START_FAILURES,
                 stop_seconds: float = STOP_SECONDS):
        self.settings, self.count = settings, count
        self.command = command or [sys.executable, "-m", "bot.workers", "--child"]
        self.start_seconds, self.start_failures, self.stop_seconds = start_seconds, start_failures, stop_seconds
        self.slots = [Slot(i) for i in range(count)]
        self.stop_signal: int | None = None
        self.announced = False

    # ---- lifecycle ----
    def run(self) -> int:
        problem = port_problem(self.settings.host, self.settings.port)
        if problem:
            print(f"启动失败：{problem}", file=sys.stderr)
            return 2
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        metrics_dir = self._metrics_dir()
        try:
            for slot in self.slots:
                self._spawn(slot)
            status = self._supervise()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if metrics_dir is not None:
                metrics_dir.cleanup()
        if status == 0:
            log.info("stopped all %d workers", self.count)
        return status

    def _on_signal(self, signum, _frame) -> None:
        self.stop_signal = signum

    def _metrics_dir(self) -> tempfile.TemporaryDirectory | None:
        """Workers write their Prometheus figures to one directory, so `/metrics` (answered by any one of them)
        reports the sum (bot/metrics.py). An operator's own PROMETHEUS_MULTIPROC_DIR is kept."""
        if os.environ.get(MULTIPROCESS_ENV):
            self.metrics_env = {}
            return None
        directory = tempfile.TemporaryDirectory(prefix="linli-metrics-")
        self.metrics_env = {MULTIPROCESS_ENV: directory.name}
        return directory

    def _env(self, slot: Slot) -> dict[str, str]:
        return {**os.environ, **getattr(self, "metrics_env", {}), "LINLI_HOST": self.settings.host,
                "LINLI_PORT": str(self.settings.port), INDEX_ENV: str(slot.index), "LINLI_WORKERS": "1"}

    def _spawn(self, slot: Slot) -> None:
        self._close_ready_pipe(slot)
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:
            slot.proc = subprocess.Popen(self.command, env={**self._env(slot), READY_FD_ENV: str(write_end)},
                                         start_new_session=True, pass_fds=(write_end,))
        finally:
            os.close(write_end)  # the worker holds its own copy
        slot.ready_pipe, slot.ready = read_end, False
        slot.started = time.monotonic()
        slot.pids.append(slot.proc.pid)
        log.info("worker %d started (pid %d)", slot.index, slot.proc.pid,
                 extra={"worker": slot.index, "pid": slot.proc.pid})

    def _supervise(self) -> int:
        while self.stop_signal is None:
            now = time.monotonic()
            for slot in self.slots:
                if slot.proc is None:
                    if now >= slot.restart_at:
                        self._spawn(slot)
                    continue
                self._read_ready(slot)
                code = slot.proc.poll()
                if code is None:
                    if slot.early_crashes and slot.ready and now - slot.started >= self.start_seconds:
                        slot.early_crashes = 0  # it came up and stayed up
                    continue
                if self.stop_signal is not None:
                    break
                lived = now - slot.started
                slot.proc = None
                self._read_ready(slot)  # it may have said "listening" just before it died
                self._close_ready_pipe(slot)
                if not slot.ready or lived < self.start_seconds:
                    slot.early_crashes += 1
                    if slot.early_crashes >= self.start_failures:
                        log.error("worker %d exited right after starting %d times in a row (last: %s); "
                                  "stopping all workers", slot.index, slot.early_crashes, describe_exit(code, True))
                        print(f"启动失败：工作进程连续 {slot.early_crashes} 次启动后立即退出（{describe_exit(code)}），"
                              "请查看上面的错误信息。", file=sys.stderr)
                        return 1
                    pause = min(2.0 ** (slot.early_crashes - 1), 10.0)
                else:
                    slot.early_crashes, pause = 0, 0.0
                slot.restart_at = now + pause
                log.warning("worker %d (pid %d) %s after %.1f s; restarting %s", slot.index, slot.pids[-1],
                            describe_exit(code, english=True), lived, f"in {pause:.0f} s" if pause else "now",
                            extra={"worker": slot.index, "pid": slot.pids[-1], "exit": code})
            if not self.announced:
                self._announce_when_ready()
            time.sleep(POLL_SECONDS)
        log.info("got %s; stopping %d workers", signal.Signals(self.stop_signal).name, self.count)
        return 0

    @staticmethod
    def _read_ready(slot: Slot) -> None:
        if slot.ready or slot.ready_pipe is None:
            return
        try:
            slot.ready = bool(os.read(slot.ready_pipe, 1))
        except BlockingIOError:
            pass  # still starting

    @staticmethod
    def _close_ready_pipe(slot: Slot) -> None:
        if slot.ready_pipe is not None:
            os.close(slot.ready_pipe)
            slot.ready_pipe = None

    def _announce_when_ready(self) -> None:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "", "::") else self.settings.host
        host = f"[{host}]" if ":" in host else host
        try:
            urllib.request.urlopen(f"http://{host}:{self.settings.port}/healthz", timeout=0.5).read()
        except Exception:
            return
        self.announced = True
        from bot.serve import banner

        print(banner(self.settings).replace("邻里服务已启动。",
                                            f"邻里服务已启动（{self.count} 个工作进程，同一端口）。"), flush=True)

    def _stop_all(self) -> None:
        alive = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
        for proc in alive:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_seconds
        for proc in alive:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not exit within %.0f s; killing it", proc.pid, self.stop_seconds)
                proc.kill()
                proc.wait()
        for slot in self.slots:
            slot.proc = None
            self._close_ready_pipe(slot)


def describe_exit(code: int, english: bool = False) -> str:
    """How a process ended, for the operator's message (Chinese) or the log (English)."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"killed by {name}" if english else f"被信号 {name} 结束"
    return f"exit status {code}" if english else f"退出码 {code}"


def supervise(settings: Settings, count: int) -> int:
    """`linli serve` with `count` workers: one process serving directly, or the supervisor."""
    from bot import logs
    from bot.production import refuse_unsafe_start

    if refuse_unsafe_start(settings, "linli serve"):
        return 2
    if count == 1:
        from bot.serve import serve

        return serve(settings)
    logs.configure(settings.log_level)
    return Supervisor(settings, count).run()


# ---- the worker process ----
async def _watch_parent(parent: int) -> None:
    """Stop gracefully when the supervisor is gone (its workers are re-parented)."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("the supervisor is gone; this worker stops too")
    os.kill(os.getpid(), signal.SIGTERM)


def _tell_supervisor_ready(_aiohttp_line: str) -> None:
    """run_app calls its `print` once the socket listens (startup has run): one byte on the supervisor's pipe."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except (OSError, ValueError):
        log.warning("could not tell the supervisor this worker is ready (%s=%s)", READY_FD_ENV, fd)


def run_worker(settings: Settings) -> int:
    """One web worker: the full app on a SO_REUSEPORT socket (host and port come from the supervisor)."""
    from aiohttp import web

    from bot import logs
    from bot.serve import app_or_report

    app = app_or_report(settings)
    if app is None:
        return 2
    parent = os.getppid()

    async def watch(app_: web.Application):
        task = asyncio.create_task(_watch_parent(parent), name="watch-supervisor")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(watch)
    web.run_app(app, host=settings.host, port=settings.port, reuse_port=True, print=_tell_supervisor_ready,
                access_log_class=logs.QuietAccessLogger, shutdown_timeout=WORKER_SHUTDOWN_SECONDS)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.workers", description="linli serve 的一个工作进程")
    parser.add_argument("--child", action="store_true", required=True, help=argparse.SUPPRESS)
    parser.parse_args(argv)
    from bot.cli import settings_or_exit

    return run_worker(settings_or_exit())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
