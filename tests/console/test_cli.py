"""`linli staff create` (first admin, password from stdin or prompt) and `linli staff token`."""
from __future__ import annotations

import argparse
import asyncio
import io

from sqlalchemy import select

from handlers.console.cli import add_subcommands
from storage.console_models import ApiToken, AuditEntry
from storage.db import Database
from storage.models import Staff
from storage.passwords import verify_password
from storage.repositories.org import load_demo
from storage.repositories.staff import hash_secret


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


async def _query(url: str, stmt):
    db = Database(url)
    try:
        async with db.transaction() as session:
            return list((await session.execute(stmt)).scalars())
    finally:
        await db.dispose()


async def _demo(url: str):
    db = Database(url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
    finally:
        await db.dispose()


def test_create_first_admin_and_a_token(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("first-admin-pw\n"))
    assert run(["staff", "create", "--username", "root", "--name", "管理员", "--level", "admin",
                "--password-stdin"]) == 0
    staff = asyncio.run(_query(sqlite_url, select(Staff).where(Staff.username == "root")))[0]
    assert verify_password("first-admin-pw", staff.password_hash)
    assert run(["staff", "token", "root", "--label", "对接"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("linli_")
    hashes = asyncio.run(_query(sqlite_url, select(ApiToken.token_hash)))
    assert hashes == [hash_secret(token)]
    actions = asyncio.run(_query(sqlite_url, select(AuditEntry.via)))
    assert actions == ["cli", "cli"]


def test_create_reports_every_problem(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    asyncio.run(_demo(sqlite_url))
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert run(["staff", "create", "--username", "admin", "--name", "重复", "--level", "street", "--node", "XX",
                "--password-stdin"]) == 1
    err = capsys.readouterr().err
    assert "该用户名已被使用" in err and "请选择所属街道" in err and "至少 12 位" in err
    assert run(["staff", "token", "ghost"]) == 1
