"""Production with sandbox defaults: `linli serve` and `linli worker` refuse to start on any published secret
(one Chinese message per problem, never the value), and no startup banner or command output shows a secret."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.production import default_secret_problems
from bot.serve import banner
from bot.settings import Settings, SettingsError, parse

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Tok3nNeverPrinted9"
SECRET = "s3cret-never-printed-0123456789ab"
AES = "Zq8vWm3KcT9uXy2LbN7rHs4JdF6gPa1EoVi5QeRtYu0"
DB_PASSWORD = "dbPassNeverPrinted"
SECRETS = (TOKEN, SECRET, AES, DB_PASSWORD)


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whatever the venv has installed
    env.update(values)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_published_defaults_are_each_named():
    problems = default_secret_problems(Settings())
    assert [p.split()[0] for p in problems] == ["WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET"]
    own = Settings(wechat_token=TOKEN, wechat_appid="wx0123456789abcdef", wechat_secret=SECRET)
    assert default_secret_problems(own) == []
    leaked = own.with_(wechat_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                       database_url="postgresql+asyncpg://linli:linli@db/linli")
    assert [p.split()[0] for p in default_secret_problems(leaked)] == ["WECHAT_AES_KEY", "LINLI_DATABASE_URL"]


@pytest.mark.parametrize("api_base,env,production", [
    ("https://api.weixin.qq.com", "", True),
    ("http://sandbox:8081", "", True),  # a sandbox elsewhere is not this machine
    ("http://10.0.0.5:8081", "", True),
    ("http://127.0.0.1:8081", "", False),
    ("http://localhost:8081", "", False),
    ("http://[::1]:8081", "", False),
    ("http://127.0.0.1:8081", "production", True),
    ("https://api.weixin.qq.com", "development", True),  # development cannot talk production down
])
def test_what_counts_as_production(api_base, env, production):
    values = {"LINLI_WECHAT_API_BASE": api_base}
    if env:
        values["LINLI_ENV"] = env
    assert parse(values).production is production


@pytest.mark.parametrize("command", [["serve"], ["worker", "--until-idle"]])
def test_production_refuses_to_start_on_published_secrets(command, tmp_path):
    env = _env(LINLI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
               LINLI_WECHAT_API_BASE="https://api.weixin.qq.com")
    done = _run(command, env, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split()[1] for line in lines] == ["WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET"]
    assert "生产环境" in done.stderr and "Traceback" not in done.stderr
    assert "linli-sandbox-token" not in done.stderr + done.stdout
    assert "linli-sandbox-secret" not in done.stderr + done.stdout


def test_explicit_production_on_the_sandbox_is_checked_too(tmp_path):
    env = _env(LINLI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", LINLI_ENV="production",
               LINLI_WECHAT_API_BASE="http://127.0.0.1:9", WECHAT_TOKEN=TOKEN, WECHAT_SECRET=SECRET,
               WECHAT_APPID="wx0123456789abcdef", WECHAT_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    done = _run(["serve", "--port", "1"], env, tmp_path)
    assert done.returncode == 2 and "WECHAT_AES_KEY" in done.stderr and "abcdefghijklmn" not in done.stderr
    assert TOKEN not in done.stderr and SECRET not in done.stderr


def test_the_startup_banner_shows_no_secret(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(LINLI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", LINLI_ENV="production",
               LINLI_WECHAT_API_BASE=f"http://user:{DB_PASSWORD}@127.0.0.1:9", WECHAT_TOKEN=TOKEN,
               WECHAT_SECRET=SECRET, WECHAT_APPID="wx0123456789abcdef", WECHAT_AES_KEY=AES)
    assert _run(["db", "upgrade"], env, tmp_path).returncode == 0
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], env=env,
                                cwd=tmp_path, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "邻里服务已启动" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text(errors="replace")
    assert "邻里服务已启动" in text and "安全模式" in text and "生产环境" in text
    for secret in SECRETS:
        assert secret not in text


def test_banner_and_settings_errors_never_show_secrets():
    settings = Settings(wechat_token=TOKEN, wechat_secret=SECRET, wechat_aes_key=AES,
                        wechat_api_base=f"https://proxy:{DB_PASSWORD}@wx.example.cn")
    text = banner(settings)
    assert all(secret not in text for secret in SECRETS) and "wx.example.cn" in text
    with pytest.raises(SettingsError) as err:
        parse({"WECHAT_TOKEN": TOKEN + "!", "WECHAT_SECRET": SECRET, "WECHAT_AES_KEY": AES[:-1],
               "LINLI_DATABASE_URL": f"mysql://linli:{DB_PASSWORD}@db/linli", "LINLI_API_TOKEN_DAYS": "0"})
    message = str(err.value)
    assert "WECHAT_TOKEN=***" in message and "WECHAT_AES_KEY=***" in message
    assert "LINLI_API_TOKEN_DAYS=0" in message  # not a secret: shown
    assert all(secret not in message for secret in SECRETS) and "mysql://linli:***@db/linli" in message


def test_command_outputs_show_no_secret(tmp_path):
    """The commands an operator runs on a production host print no configured secret."""
    env = _env(LINLI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
               LINLI_WECHAT_API_BASE="http://127.0.0.1:9", WECHAT_TOKEN=TOKEN, WECHAT_SECRET=SECRET,
               WECHAT_APPID="wx0123456789abcdef", WECHAT_AES_KEY=AES)
    outputs = []
    for args in (["db", "upgrade"], ["org", "demo"], ["broadcast", "list"], ["meeting", "missing", "--month",
                 "2026-11"], ["kb", "check", str(ROOT / "knowledge" / "data")], ["db", "backup", "b.db"],
                 ["staff", "token", "admin"], ["worker", "--until-idle"]):
        done = _run(args, env, tmp_path)
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    assert all(secret not in text for secret in SECRETS)
