"""`linli survey create|list|results|publish|close` against a SQLite file (run as the operator would)."""
from __future__ import annotations

import argparse
import asyncio

from handlers.surveys.cli import add_subcommands
from storage.db import Database
from storage.repositories.org import load_demo


def linli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
    finally:
        await db.dispose()


def test_cli_life_cycle(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    asyncio.run(_seed(sqlite_url))
    assert linli("survey", "list") == 0 and "还没有" in capsys.readouterr().out
    assert linli("survey", "create", "--template", "property", "--subject", "WY-JA", "--scope", "HX-YYL-YJ",
                 "--opens", "2020-01-01 09:00", "--closes", "2099-01-01 18:00") == 0
    out = capsys.readouterr().out
    assert "调查 1 已创建（待开始）" in out and "2 个小区" in out and "每户一票" in out
    assert linli("survey", "create", "--template", "developer", "--subject", "NOPE", "--scope", "HX-YYL-YJ",
                 "--opens", "2020-01-01 09:00", "--closes", "2099-01-01 18:00") == 1
    assert "找不到调查对象" in capsys.readouterr().err
    assert linli("survey", "create", "--template", "old-estate", "--subject", "谊景旧楼区管理站", "--scope",
                 "HX-YYL-YJ-03", "HX-NOPE", "--opens", "2020-01-01", "--closes", "2099-01-01") == 1
    assert "HX-NOPE" in capsys.readouterr().err
    assert linli("survey", "publish", "1") == 1 and "只有已结束" in capsys.readouterr().err
    assert linli("survey", "close", "1") == 1  # not open yet (the scheduler opens it)
    capsys.readouterr()
    assert linli("survey", "list") == 0 and "待开始" in capsys.readouterr().out
    assert linli("survey", "results", "1") == 0
    assert "参与：0 户" in capsys.readouterr().out
    assert linli("survey", "results", "1", "--csv") == 0 and "综合满意率" in capsys.readouterr().out
    assert linli("survey", "results", "9") == 1 and "没有编号为 9" in capsys.readouterr().err
