"""The `linli` command line: one program, help on every command, clear errors."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import build_parser, main

COMMANDS = [["serve"], ["sandbox"], ["db", "upgrade"], ["chat"], ["org", "import"], ["org", "demo"],
            ["menu", "push"], ["qrcode"], ["kb", "ask"], ["kb", "check"], ["kb", "reload"], ["broadcast", "status"],
            ["worker"], ["staff", "create"], ["report", "month"], ["hotline", "import"], ["hotline", "export"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*command, "--help"])
    assert done.value.code == 0
    assert "usage: linli" in capsys.readouterr().out


def test_bad_settings_stop_with_a_clear_message():
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "LINLI_PORT": "nope", "LINLI_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert "LINLI_PORT" in result.stderr and "LINLI_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_org_import_reports_bad_rows_and_writes_nothing(tmp_path, monkeypatch, capsys, sqlite_url):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    bad = tmp_path / "org.csv"
    bad.write_text("district_code,district,street_code,street,community_code,community\n"
                   "HX,河西区,HX-A,友谊路街道,HX-A-1,\n", encoding="utf-8")
    from tests.conftest import in_thread

    assert in_thread(main, ["org", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "未写入任何数据" in err and "第2行" in err
    assert in_thread(main, ["org", "import", str(tmp_path / "missing.csv")]) == 1
