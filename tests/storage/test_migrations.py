"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL, and the privacy
migration (0009) rebuilds and rewrites existing data without losing a row."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, func, insert, inspect, select, text

from storage.db import create_engine
from storage.migrate import upgrade
from storage.schema import Base
from tests.conftest import in_thread


async def test_migrated_database_matches_the_models(db_url):
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}),
                                              Base.metadata))
    finally:
        await engine.dispose()
    assert diff == [], diff


BEFORE_PRIVACY = ("0002_delivery", "0003_console", "0004_tickets", "0005_notices", "0006_surveys", "0007_policy_qa",
                  "0008_scorecards")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request, tmp_path):
    """An empty database (no migration applied)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    from tests.conftest import PG_ADMIN_URL, _pg_admin

    request.getfixturevalue("pg_database")  # skips when no server answers
    name = f"linli_mig_{uuid.uuid4().hex[:8]}"
    in_thread(asyncio.run, _pg_admin(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    in_thread(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _tables_as_migrated(url: str) -> dict[str, Table]:
    """The models' tables cut to the columns the database has at its current revision (later migrations add
    columns the models already know)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            present = await conn.run_sync(lambda c: {name: {col["name"] for col in inspect(c).get_columns(name)}
                                                     for name in inspect(c).get_table_names()})
    finally:
        await engine.dispose()
    meta = MetaData()
    return {name: Table(name, meta, *[c._copy() for c in model.columns if c.name in present[name]])
            for name, model in Base.metadata.tables.items() if name in present}


async def test_the_privacy_migration_keeps_every_row_and_erases_the_orphans(blank_url):
    """Rebuilding the resident-linked tables (SQLite: AUTOINCREMENT) keeps every row and every link (no ON
    DELETE action fires), household keys become keyed hashes, broadcasts gain refs, orphans lose personal data."""
    from bot.settings import Settings
    from handlers.surveys.rules import household_hash

    for revision in BEFORE_PRIVACY:
        in_thread(upgrade, blank_url, revision)
    t = await _tables_as_migrated(blank_url)
    now = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    due = dict(created_at=now, updated_at=now, level_since=now, sign_due_at=now, resolve_due_at=now,
               first_sign_due_at=now, reopened=0, escalations=0, escalation_offered=False, level="community",
               status="received", category="repair", photos=[{"pic_url": "http://p/1.jpg"}], community_id=1)
    engine = create_engine(blank_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(t["districts"]).values(id=1, code="D", name="区"))
            await conn.execute(insert(t["streets"]).values(id=1, code="S", name="街道", district_id=1))
            await conn.execute(insert(t["communities"]).values(id=1, code="C", name="社区", street_id=1))
            for rid in (1, 2):
                await conn.execute(insert(t["residents"]).values(id=rid, openid=f"o_{rid}", ref=f"{rid:032d}",
                                                                 subscribed=True, created_at=now))
            await conn.execute(insert(t["tickets"]).values(id=1, number="JF20261126-0001", resident_ref="1" * 32,
                                                           resident_id=1, description="我的", phone="13812345678",
                                                           **due))
            await conn.execute(insert(t["tickets"]).values(id=2, number="JF20261126-0002", resident_ref="9" * 32,
                                                           resident_id=None, description="3号楼501王先生",
                                                           phone="13900001111", location={"lat": 39.1}, **due))
            await conn.execute(insert(t["surveys"]).values(
                id=1, title="调查", template="custom", subject_type="free", subject_name="x", scope_level="community",
                scope_ids=[1], owners_only=False, per_household=True, questions=[], questions_version=1, frozen=True,
                status="open", opens_at=now, closes_at=now, reminders_max=0, reminder_gap_hours=48, reminders_sent=0,
                created_by="t", created_at=now))
            await conn.execute(insert(t["survey_responses"]).values(
                id=1, survey_id=1, voter_key="h:1:0:3:501", resident_ref="1" * 32, resident_id=1, answers={},
                questions_version=1, revision=1, created_at=now, updated_at=now))
            await conn.execute(insert(t["survey_drafts"]).values(survey_id=1, resident_id=2, step=1, answers={},
                                                                 questions_version=1, updated_at=now))
            await conn.execute(insert(t["delivery_mutes"]).values(resident_id=1, category="notice", created_at=now))
            await conn.execute(insert(t["broadcasts"]).values(
                id=1, category="ticket", scope={"level": "all", "ids": [], "roles": [], "residents": [2, 77]},
                text="进度", created_by="t", status="scheduled", send_at=now, created_at=now, expand_cursor=0,
                expanded=False))
            await conn.execute(insert(t["deliveries"]).values(id=1, broadcast_id=1, resident_id=2, status="queued",
                                                              attempts=0, resent=False))
            await conn.execute(insert(t["inquiries"]).values(id=1, resident_ref="9" * 32, resident_id=None,
                                                             question="我家501漏水", status="open", created_at=now))
        await asyncio.to_thread(upgrade, blank_url)
        t = await _tables_as_migrated(blank_url)
        async with engine.connect() as conn:
            tickets = {r.id: r for r in (await conn.execute(select(t["tickets"]))).all()}
            assert tickets[1].resident_id == 1 and tickets[1].phone == "13812345678"  # a live resident: untouched
            assert tickets[1].resident_erased_at is None and tickets[1].photos == [{"pic_url": "http://p/1.jpg"}]
            assert tickets[2].phone is None and tickets[2].location is None and tickets[2].photos == []
            assert "王先生" not in tickets[2].description and tickets[2].resident_erased_at is not None
            response = (await conn.execute(select(t["survey_responses"]))).one()
            assert response.resident_id == 1
            assert response.voter_key == household_hash(Settings.from_env().household_secret, "1:0:3-501")
            assert (await conn.execute(select(t["survey_drafts"].c.resident_id))).scalars().all() == [2]
            assert (await conn.execute(select(t["delivery_mutes"].c.resident_id))).scalars().all() == [1]
            assert (await conn.execute(select(t["deliveries"].c.resident_id))).scalars().all() == [2]
            scope = (await conn.execute(select(t["broadcasts"].c.scope))).scalar_one()
            assert scope["refs"] == ["2".zfill(32)] and scope["residents"] == [2, 77]
            inquiry = (await conn.execute(select(t["inquiries"]))).one()
            assert inquiry.question == "" and inquiry.status == "withdrawn"
            if conn.dialect.name == "sqlite":
                for name in ("residents", "tickets", "inquiries", "survey_responses", "broadcasts", "deliveries"):
                    sql = (await conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}))
                    assert "AUTOINCREMENT" in sql.scalar_one(), name
                await conn.execute(text("DELETE FROM residents WHERE id = 2"))
                await conn.execute(insert(t["residents"]).values(openid="o_3", ref="3" * 32, subscribed=True,
                                                                 created_at=now))
                assert (await conn.execute(select(func.max(t["residents"].c.id)))).scalar_one() == 3  # not 2 again
    finally:
        await engine.dispose()
