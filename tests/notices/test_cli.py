"""`linli notice list|show|publish` against a real database (the meeting commands are in test_meetings.py)."""
from __future__ import annotations

import argparse
import contextlib
import io

from handlers.notices.cli import add_subcommands
from tests.conftest import in_thread
from tests.notices.test_service import draft


def runner(url: str, monkeypatch):
    monkeypatch.setenv("LINLI_DATABASE_URL", url)
    monkeypatch.setenv("LINLI_PUBLIC_URL", "https://linli.example.cn")
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="command"))

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(list(argv))
            code = args.func(args)
        return code, out.getvalue() + err.getvalue()

    return lambda *argv: in_thread(run, *argv)


async def test_notice_commands(nworld, monkeypatch):
    run = runner(nworld.services.settings.database_url, monkeypatch)
    assert "还没有公示" in run("notice", "list")[1]
    nid = await draft(nworld, title="11月停车费公示")
    code, out = run("notice", "list", "--state", "draft")
    assert code == 0 and "草稿" in out and "11月停车费公示" in out
    code, out = run("notice", "publish", str(nid))
    assert code == 0 and "已发布" in out and "https://linli.example.cn/n/" in out
    code, out = run("notice", "show", str(nid))
    assert code == 0 and "已发布" in out and "第1版" in out and "谊景社区" in out and "审核：cli:" in out
    code, out = run("notice", "publish", str(nid))
    assert code == 1 and "不能审核发布" in out
    assert run("notice", "show", "999999")[0] == 1
