"""`linli db migrate-to URL`: a SQLite deployment with every table non-empty (demo organisation, residents who
bound, complained, asked, rated, muted and voted through the real webhook, a broadcast sent to them, staff tokens,
the scheduler lease; any table still empty gets a generated row) is copied into a fresh PostgreSQL database by the
real command. Every row is equal afterwards, the sequences continue after the copied ids, a non-empty target is
refused unless --force, and a source in use is refused."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    insert,
    select,
    text,
    update,
)

from bot.app import build_services, create_app
from bot.context import Services
from bot.delivery import Content, Scope, create_broadcast
from bot.delivery.config import DeliveryConfig
from bot.delivery.scheduler import SchedulerLease
from bot.delivery.sender import Sender
from bot.simulator import WeChatSimulator
from storage.console_models import LoginThrottle
from storage.db import Database
from storage.models import Resident, new_ref
from storage.repositories import policy_qa
from storage.repositories import staff as staff_repo
from storage.repositories.org import load_demo
from storage.schema import Base
from storage.ticket_models import Ticket
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.ops.conftest import clean_env
from tests.support import BASE

NOW = datetime.now(timezone.utc)


async def cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "db", *args, cwd=cwd, env=clean_env(url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


@pytest.fixture
async def pg_target():
    name = f"linli_migrate_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        pytest.skip(f"PostgreSQL 不可用（{PG_ADMIN_URL}）：{type(exc).__name__}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _through_the_webhook(settings, sandbox) -> None:
    """Residents use the bot for real: binding, a complaint, questions and a rating, muting, a survey vote."""
    from handlers.surveys import service
    from storage.models import District

    services = build_services(settings)
    async with services.db.transaction() as session:
        await load_demo(session)
        district = await session.scalar(select(District.id).where(District.code == "HX"))
        survey = await service.create(
            session, template="custom", subject_type="free", subject="迁移测试", title="迁移测试调查",
            scope_level="district", scope_ids=[district], opens_at=NOW - timedelta(minutes=1),
            closes_at=NOW + timedelta(days=1), created_by="test", now=NOW,
            questions=[{"id": "q1", "kind": "rating", "title": "总体满意度",
                        "labels": ["非常不满意", "不满意", "一般", "满意", "非常满意"]}])
        await service.schedule(session, survey, NOW)
        await service.open_due(session, NOW)
    from aiohttp.test_utils import TestServer

    server = TestServer(create_app(settings, services=services))
    await server.start_server()
    sim = WeChatSimulator(str(server.make_url("/wechat")), settings.wechat_token, settings.wechat_appid,
                          sandbox_url=str(sandbox.make_url("")))

    async def dialog(openid: str, turns: list[tuple[str, str]]) -> None:
        for said, expected in turns:
            reply = (await sim.text(openid, said)).text or ""
            assert expected in reply, (said, reply)

    try:
        for n, openid in enumerate(("o_mig_a", "o_mig_b")):
            await dialog(openid, [("绑定", "街道"), ("1", "社区"), ("1", "小区"), ("2", "业主"), ("1", "楼号"),
                                  (f"3-2-50{n}", "请核对"), ("确认", "绑定成功")])
        await dialog("o_mig_a", [("投诉 3号楼楼道灯坏了三天了，晚上很黑", "请核对"), ("确认", "已受理")])
        await dialog("o_mig_b", [("投诉 5号楼电梯经常故障停运", "请核对"), ("确认", "已受理")])
        await dialog("o_mig_a", [("维修资金怎么使用", "依据"), ("有用", "谢谢")])
        await dialog("o_mig_a", [("退订 会议", "会议")])
        await dialog("o_mig_b", [("火星上能种土豆吗", ""), ("转人工", "")])
        await dialog("o_mig_a", [("调查", "总体满意度"), ("4", ""), ("确认", "提交成功")])
        await dialog("o_mig_b", [("调查", "总体满意度")])  # a draft and a dialog left open
        async with services.db.transaction() as session:
            await create_broadcast(session, category="notice", scope=Scope(), created_by="test",
                                   content=Content("迁移测试公示正文", title="迁移测试", summary="迁移测试"))
            staff = await staff_repo.staff_by_username(session, "yijing")
            await staff_repo.create_api_token(session, staff.id, "migrate", NOW)
            await staff_repo.create_session(session, staff.id, NOW, timedelta(hours=1))
            session.add(LoginThrottle(key="account:yijing", failures=1, last_failure_at=NOW))
            await staff_repo.register_device(session, staff.id, NOW)
            await policy_qa.request_reload(session, None, "test", NOW)
        sender = Sender(Services(settings=settings, db=services.db), DeliveryConfig.from_settings(settings))
        try:
            await sender.run(until_idle=True)
        finally:
            await sender.close()
        await SchedulerLease(services, "test-owner").hold()
    finally:
        await sim.close()
        await server.close()  # disposes the app's engines
        await services.db.dispose()


def _value(column, references: dict):
    """A plausible value for one column of a generated row."""
    if column.foreign_keys:
        fk = next(iter(column.foreign_keys))
        return references.get((fk.column.table.name, fk.column.name))
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, Enum):
        return list(kind.enum_class)[0] if kind.enum_class else kind.enums[0]
    if isinstance(kind, JSON):
        return {"generated": True}
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return date.today()
    if isinstance(kind, (Integer, BigInteger)):
        return 1
    if isinstance(kind, (Float, Numeric)):
        return 1.5
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, (String, Text)):
        return f"gen-{column.table.name}"[: kind.length or 40]
    raise AssertionError(f"no generated value for {column.table.name}.{column.name}: {kind!r}")


async def _fill_empty_tables(url: str) -> list[str]:
    """One generated row in every table the scenario left empty (new features' tables included)."""
    db = Database(url)
    generated = []
    try:
        async with db.transaction() as session:
            for table in Base.metadata.sorted_tables:
                if await session.scalar(select(text("1")).select_from(table).limit(1)) is not None:
                    continue
                references = {}
                for column in table.columns:
                    for fk in column.foreign_keys:
                        target = fk.column
                        references[(target.table.name, target.name)] = await session.scalar(
                            select(target).order_by(target).limit(1))
                row = {}
                for column in table.columns:
                    auto = column.primary_key and column.autoincrement in (True, "auto") and isinstance(
                        column.type, (Integer, BigInteger)) and not column.foreign_keys and len(table.primary_key) == 1
                    if not auto:
                        row[column.name] = _value(column, references)
                await session.execute(insert(table).values(row))
                generated.append(table.name)
    finally:
        await db.dispose()
    return generated


async def _rows(url: str) -> dict[str, list[dict]]:
    db = Database(url)
    try:
        async with db.reading() as session:
            return {t.name: [dict(r._mapping) for r in await session.execute(
                select(t).order_by(*t.primary_key.columns))] for t in Base.metadata.sorted_tables}
    finally:
        await db.dispose()


async def test_migrate_sqlite_to_postgresql_copies_everything(sqlite_url, pg_target, sandbox, tmp_path):
    settings = BASE.with_(database_url=sqlite_url, wechat_api_base=str(sandbox.make_url("")).rstrip("/"),
                          http_timeout=2.0).with_env({"LINLI_DELIVERY_RATE": "0", "LINLI_DELIVERY_POLL": "0.05",
                                                      "LINLI_DELIVERY_TEMPLATE_NOTICE": "TPL_NOTICE"})
    await _through_the_webhook(settings, sandbox)
    generated = await _fill_empty_tables(sqlite_url)
    db = Database(sqlite_url)
    try:  # a row pointing at a later row of its own table: copying in id order alone would break the foreign key
        async with db.transaction() as session:
            first, second = (await session.scalars(select(Ticket.id).order_by(Ticket.id))).all()
            await session.execute(update(Ticket).where(Ticket.id == first).values(duplicate_of_id=second))
    finally:
        await db.dispose()
    print(f"tables given a generated row: {generated}")
    source = await _rows(sqlite_url)
    assert all(source.values()), [name for name, rows in source.items() if not rows]
    for real in ("residents", "tickets", "ticket_events", "survey_responses", "deliveries", "kb_ratings",
                 "delivery_mutes", "conversations", "processed_messages", "staff_api_tokens"):
        assert real not in generated, f"{real} should be filled by the scenario"

    done = await cli(sqlite_url, "migrate-to", pg_target, "--batch", "7", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "迁移完成" in done.stdout and "不一致" not in done.stdout
    copied = await _rows(pg_target)
    for name, rows in source.items():
        assert copied[name] == rows, f"table {name} differs"

    target = Database(pg_target)
    try:
        async with target.transaction() as session:
            sequences = (await session.execute(text(
                "SELECT c.table_name, c.column_name, pg_get_serial_sequence(c.table_name, c.column_name) "
                "FROM information_schema.columns c WHERE c.table_schema = 'public' "
                "AND pg_get_serial_sequence(c.table_name, c.column_name) IS NOT NULL"))).all()
            assert len(sequences) >= 20
            for table, column, sequence in sequences:
                highest = await session.scalar(text(f'SELECT MAX("{column}") FROM "{table}"'))
                following = await session.scalar(text("SELECT nextval(CAST(:s AS regclass))"), {"s": sequence})
                assert following > (highest or 0), f"{sequence} would collide"
        async with target.transaction() as session:
            newcomer = Resident(openid="o_after_migration", ref=new_ref(), created_at=NOW)
            session.add(newcomer)
            await session.flush()
            assert newcomer.id > max(r["id"] for r in source["residents"])
    finally:
        await target.dispose()

    again = await cli(sqlite_url, "migrate-to", pg_target, cwd=tmp_path)
    assert again.returncode == 1 and "目标数据库已有数据" in again.stderr and "--force" in again.stderr
    forced = await cli(sqlite_url, "migrate-to", pg_target, "--force", "--batch", "1", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (await _rows(pg_target)) == source  # the newcomer is gone: the target was emptied first


async def test_migrate_refuses_a_source_in_use_and_bad_targets(sqlite_url, tmp_path):
    path = sqlite_url.split(":///", 1)[1]
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({path!r}); c.execute('SELECT COUNT(*) FROM residents').fetchall()\n"
        "print('open', flush=True); time.sleep(60)", stdout=asyncio.subprocess.PIPE)
    try:
        assert (await holder.stdout.readline()).strip() == b"open"
        busy = await cli(sqlite_url, "migrate-to", "postgresql+asyncpg://nobody@127.0.0.1:1/none", cwd=tmp_path)
    finally:
        holder.kill()
        await holder.wait()
    assert busy.returncode == 1 and "正在被使用" in busy.stderr
    unreachable = await cli(sqlite_url, "migrate-to", "postgresql+asyncpg://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert unreachable.returncode == 1 and "无法连接" in unreachable.stderr and "Traceback" not in unreachable.stderr
    wrong = await cli(sqlite_url, "migrate-to", "mysql://x@y/z", cwd=tmp_path)
    assert wrong.returncode == 1 and "目标须是 PostgreSQL" in wrong.stderr
