"""Owners' committee accounts (业主委员会, issue 20) on SQLite and PostgreSQL: `linli staff create --committee
ESTATE_CODE` makes an account bound to one estate; it drafts that estate's motions (status draft, never opened by
the job), attaches files, sees turnout and results; street or community staff open the draft; it sees no owners'
names, no roster, no paper ballots, no other estate."""
from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.console.staff_service import StaffError, create_account
from handlers.owners import jobs
from storage.console_models import AuditEntry
from storage.models import Estate, Staff
from storage.owner_models import Motion
from tests.console.conftest import NOW, PASSWORD, csrf_in
from tests.owners.conftest import add_owner, console_world
from tests.owners.support import ESTATE
from tests.support import test_password_hash as known_hash


def test_linli_staff_create_committee(sqlite_url, monkeypatch, capsys):
    from tests.console.test_cli import _demo, _query, run

    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    asyncio.run(_demo(sqlite_url))
    monkeypatch.setattr("sys.stdin", io.StringIO("committee-account-pw-1\n"))
    assert run(["staff", "create", "--committee", ESTATE, "--username", "yjywh", "--name", "谊景花园业委会",
                "--password-stdin"]) == 0
    assert "业主委员会" in capsys.readouterr().out
    [staff] = asyncio.run(_query(sqlite_url, select(Staff).where(Staff.username == "yjywh")))
    assert staff.committee_estate_id is not None and staff.community_id is None and staff.partner is None
    monkeypatch.setattr("sys.stdin", io.StringIO("committee-account-pw-2\n"))
    assert run(["staff", "create", "--committee", "NOPE", "--username", "nope", "--name", "无",
                "--password-stdin"]) == 1
    assert "小区编码有误" in capsys.readouterr().err


@pytest.fixture
async def world(aiohttp_client, db_url):
    world = await console_world(aiohttp_client, db_url)
    async with world.services.db.transaction() as session:
        staff = await create_account(session, username="yjywh", display_name="谊景花园业委会", level="community",
                                     node=None, password=PASSWORD, committee=ESTATE)
        staff.password_hash = known_hash()
        with pytest.raises(StaffError):
            await create_account(session, username="both", display_name="x", level="community", node=None,
                                 password=PASSWORD, committee=ESTATE, partner="WY-JA")
    return world


async def login(world, username: str) -> str:
    world.client.session.cookie_jar.clear()
    nonce = csrf_in(await (await world.client.get("/console/login")).text())
    resp = await world.client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                           "_csrf": nonce}, allow_redirects=False)
    assert resp.status == 303
    return csrf_in(await (await world.client.get("/console/owners")).text())


async def test_committee_drafts_staff_open(world):
    await add_owner(world.services, "2", "201")  # an owner waiting: not the committee's to see
    from handlers.owners import verify
    from storage.models import Resident
    async with world.services.db.transaction() as session:
        wang = await session.scalar(select(Resident).order_by(Resident.id.desc()))
        assert await verify.request_staff(session, wang, NOW) == 1
    csrf = await login(world, "yjywh")
    index = await world.client.get("/console/owners")
    html = await index.text()
    assert index.status == 200 and "王五" not in html and "谊景花园" in html
    made = await world.client.post("/console/owners/motions", data={
        "_csrf": csrf, "estate_id": str(world.estate_id), "title": "选聘新的物业服务企业", "body": "全文见附件。",
        "kind": "ordinary", "topic": "general", "opens_at": "2026-11-19T09:00", "closes_at": "2026-11-30T18:00"},
        allow_redirects=False)
    assert made.status == 303, await made.text()
    async with world.services.db.transaction() as session:
        motion = await session.scalar(select(Motion).order_by(Motion.id.desc()))
    assert motion.status == "draft" and motion.created_by == "committee:yjywh"
    page = await (await world.client.get(f"/console/owners/motions/{motion.id}")).text()
    assert "待开启" in page and "开启表决" not in page and "录入纸质表决票" not in page
    assert "修改草稿" in page
    edited = await world.client.post(f"/console/owners/motions/{motion.id}/edit", data={
        "_csrf": csrf, "title": "选聘新的物业服务企业（修订）", "body": "全文见附件，第二稿。", "kind": "ordinary",
        "opens_at": "2026-11-19T09:00", "closes_at": "2026-11-30T18:00", "buildings": "1"}, allow_redirects=False)
    assert edited.status == 303
    bad = await world.client.post(f"/console/owners/motions/{motion.id}/edit", data={
        "_csrf": csrf, "title": "", "body": "x", "kind": "ordinary", "opens_at": "2026-11-19T09:00",
        "closes_at": "2026-11-18T18:00"})
    assert bad.status == 200 and "请填写标题" in await bad.text()
    async with world.services.db.transaction() as session:
        motion = await session.get(Motion, motion.id)
    assert (motion.title, motion.buildings, motion.status) == ("选聘新的物业服务企业（修订）", ["1"], "draft")
    # the committee cannot open it, nor see the roster or enter ballots
    for url in (f"/console/owners/motions/{motion.id}/release", f"/console/owners/motions/{motion.id}/paper"):
        assert (await world.client.post(url, data={"_csrf": csrf}, allow_redirects=False)).status == 403
    assert (await world.client.get(f"/console/owners/estates/{world.estate_id}")).status == 403
    # the job never opens a draft, even past its opening time
    await jobs.sweep(world.services, NOW + timedelta(days=1))
    async with world.services.db.transaction() as session:
        assert (await session.get(Motion, motion.id)).status == "draft"
    # another estate's motion is not the committee's: staff of 谊景 make one elsewhere? none has a roster, so the
    # committee cannot create one there either
    async with world.services.db.transaction() as session:
        other = await session.scalar(select(Estate.id).where(Estate.id != world.estate_id))
    refused = await world.client.post("/console/owners/motions", data={
        "_csrf": csrf, "estate_id": str(other), "title": "x", "body": "x", "kind": "ordinary",
        "opens_at": "2026-11-21T09:00", "closes_at": "2026-11-30T18:00"})
    assert refused.status == 422 and "请选择小区" in await refused.text()
    # street/community staff open it
    csrf = await login(world, "yijing")
    page = await (await world.client.get(f"/console/owners/motions/{motion.id}")).text()
    assert "开启表决" in page
    resp = await world.client.post(f"/console/owners/motions/{motion.id}/release", data={"_csrf": csrf},
                                   allow_redirects=False)
    assert resp.status == 303
    async with world.services.db.transaction() as session:
        assert (await session.get(Motion, motion.id)).status == "open"
        assert await session.scalar(select(AuditEntry.action).where(AuditEntry.action == "owners.release"))
    again = await world.client.post(f"/api/v1/owners/motions/{motion.id}/release", headers=world.bearer("yijing"))
    assert again.status == 409
    assert (await world.client.post(f"/api/v1/owners/motions/{motion.id}/release",
                                    headers=world.bearer("pingjiang"))).status == 404
    late = await world.client.post(f"/console/owners/motions/{motion.id}/edit", data={
        "_csrf": csrf, "title": "改", "body": "x", "kind": "ordinary", "opens_at": "2026-11-19T09:00",
        "closes_at": "2026-11-30T18:00"})
    assert "只有待开启的草稿可以修改" in await late.text()
    # the committee then sees the turnout (and later the result) of its estate's motion
    await login(world, "yjywh")
    assert (await world.client.get(f"/console/owners/motions/{motion.id}")).status == 200
