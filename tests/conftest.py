"""Shared fixtures: a migrated database per test (SQLite and PostgreSQL), the sandbox, and a running linli.

Every database test runs on both engines. SQLite copies a migrated template file per test; PostgreSQL gets
one fresh database per test process (migrated once; `make test` runs two pytest-xdist workers, each with its
own) whose tables are emptied before each test. Where no PostgreSQL
server answers, those cases are skipped with the reason shown.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from pathlib import Path

import pytest

from storage import passwords
from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("LINLI_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def in_thread(fn, *args):
    """Run blocking or asyncio.run-based work off the test's event-loop thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_admin(sql: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this run, migrated; dropped at the end."""
    name = f"linli_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        in_thread(asyncio.run, _pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server here: skip visibly
        pytest.skip(f"PostgreSQL 不可用（{PG_ADMIN_URL}）：{type(exc).__name__}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    in_thread(upgrade, url)
    yield url
    in_thread(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    from sqlalchemy import text

    from storage.db import create_engine
    from storage.schema import Base

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET lock_timeout = '20s'"))  # a leaked transaction fails the run, not hangs it
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


# Staff passwords are hashed at this scrypt cost in tests, as Django's test settings use a fast hasher: at the
# production cost (storage.passwords.N) loading the demo organisation hashes 12 accounts in ~0.4 s, and most tests
# load it. Tests of the hashing itself are marked `real_password_cost`; processes a test starts use the real cost.
TEST_PASSWORD_N = 2**8


@pytest.fixture(autouse=True)
def cheap_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("real_password_cost") is None:
        monkeypatch.setattr(passwords, "N", TEST_PASSWORD_N)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        target = tmp_path / "linli.db"
        shutil.copy(sqlite_template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    url = request.getfixturevalue("pg_database")
    # Empty the tables before the test rather than after it: at teardown the test's servers (and their
    # background tasks, holding locks mid-transaction) may still be alive while this synchronous code runs.
    in_thread(asyncio.run, _truncate_all(url))
    yield url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    target = tmp_path / "linli.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


from tests.support import bot, fixed_clock, sandbox, settings, start_bot  # noqa: E402,F401  (shared fixtures)
