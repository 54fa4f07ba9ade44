"""`make run` itself, as a newcomer types it: the Makefile's run target upgrades the database, loads the demo
organisation, starts the WeChat sandbox, pushes the menu and serves, all against the sandbox (never real WeChat).
Run from a temporary directory with this test's interpreter as the virtual environment, on free ports."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_sets_up_and_starts_the_bot_on_the_sandbox(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    # the install stamp's rule depends on pyproject.toml in the directory make runs in: a stamp newer than it means
    # "installed" (this test's interpreter is the environment), so make goes straight to the run target
    (tmp_path / "pyproject.toml").touch()
    stamp = tmp_path / "installed"
    stamp.touch()
    os.utime(tmp_path / "pyproject.toml", (time.time() - 60, time.time() - 60))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env.update(LINLI_PORT=str(port), LINLI_PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = tmp_path / "make-run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["make", "-s", "-f", str(ROOT / "Makefile"), "run", f"BIN={Path(sys.executable).parent}",
             f"STAMP={stamp}", f"SANDBOX_PORT={sandbox_port}"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while "邻里服务已启动" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
        text = log.read_text(errors="replace")
        assert "已载入近一个月的演示记录" in text and "admin      密码 linli-demo" in text, text
        assert "自定义菜单已更新。" in text, text  # pushed to the sandbox
        assert (tmp_path / "data" / "linli.db").exists()  # the embedded default, in the directory make ran in
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200
    finally:
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass  # already gone (it failed to start: the assertion above says why)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
