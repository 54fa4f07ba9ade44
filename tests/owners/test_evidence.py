"""Evidence photos for staff verification on SQLite and PostgreSQL: after 「人工核验」 a resident sends photos of the
房产证 in chat; the sweep downloads them with `media/get` into the media store; staff with jurisdiction see them
by a signed link made for their own account (audited), nobody else does (another community, another staff
account's link, the owners' committee, anyone logged out); the photos are deleted (object and row) when staff
approve or reject, after KEEP_DAYS, and with the resident's erasure."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.console.staff_service import create_account
from handlers.owners import console, evidence
from handlers.privacy.erasure import erase_resident
from storage.console_models import AuditEntry
from storage.delivery_models import Broadcast
from storage.media_store import LocalStore
from storage.models import Estate, Resident
from storage.owner_models import OwnerEvidence, OwnerLink
from tests.console.conftest import NOW, PASSWORD, build_world
from tests.media.conftest import JPEG, api_base, control, put, sandbox  # noqa: F401 (fixtures)
from tests.owners.conftest import ROSTER, add_owner, load_roster, routers
from tests.owners.support import ESTATE
from tests.support import fixed_clock
from tests.support import test_password_hash as known_hash


async def photos(services) -> list[OwnerEvidence]:
    async with services.db.reading() as session:
        found = list(await session.scalars(select(OwnerEvidence).order_by(OwnerEvidence.id)))
        session.expunge_all()
        return found


async def test_photos_sent_in_chat_are_kept_then_expire_and_go_with_the_resident(start_bot, settings, tmp_path):
    clock = fixed_clock(NOW)
    bot = await start_bot(settings, clock=clock, routers=routers(), plugins=[])
    services = bot.services
    services.extras["media_store"] = LocalStore(str(tmp_path / "media"))
    await load_roster(services)
    me = await add_owner(services, "2", "201")
    other = await add_owner(services, "2", "202")
    for resident in (me, other):
        await bot.dialog(resident.openid, [("核验", "人工核验"), ("人工核验", "房产证")])
        reply = (await bot.sim.image(resident.openid)).text
        assert reply is not None and "照片已收到" in reply
    await bot.dialog(me.openid, [("完成", "通知您核验结果")])
    kept = await photos(services)
    assert [(p.status, p.resident_id) for p in kept] == [("pending", me.id), ("pending", other.id)]
    report = await evidence.sweep(services, NOW)
    assert report.stored == 2
    kept = await photos(services)
    assert all(p.status == "stored" and p.media_id is None and p.content_type == "image/jpeg" for p in kept)
    files = [Path(tmp_path / "media" / p.key) for p in kept]
    assert all(f.exists() for f in files)

    # the resident's erasure: the row is stripped at once, the sweep deletes the object and then the row
    async with services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, me.id), NOW)
    mine = [p for p in await photos(services) if p.id == kept[0].id]
    assert mine and mine[0].status == "discard" and mine[0].resident_id is None
    assert (await evidence.sweep(services, NOW + timedelta(minutes=1))).deleted == 1
    assert not files[0].exists() and [p.id for p in await photos(services)] == [kept[1].id]

    # nobody decided within KEEP_DAYS: deleted anyway
    later = NOW + timedelta(days=evidence.KEEP_DAYS, minutes=1)
    assert (await evidence.sweep(services, later)).deleted == 1
    assert not files[1].exists() and await photos(services) == []


async def test_at_most_a_few_photos_and_only_after_asking_for_staff(start_bot, settings, tmp_path):
    bot = await start_bot(settings, clock=fixed_clock(NOW), routers=routers(), plugins=[])
    await load_roster(bot.services)
    me = await add_owner(bot.services, "2", "201")
    await bot.sim.image(me.openid)  # not in the dialog: no evidence is kept
    assert await photos(bot.services) == []
    await bot.dialog(me.openid, [("核验", "人工核验"), ("人工核验", "房产证")])
    for _ in range(evidence.MAX_PHOTOS):
        assert "照片已收到" in (await bot.sim.image(me.openid)).text
    assert f"最多可以发送 {evidence.MAX_PHOTOS} 张" in (await bot.sim.image(me.openid)).text
    assert len(await photos(bot.services)) == evidence.MAX_PHOTOS
    assert "已收到的照片仍交给工作人员查验" in await bot.say(me.openid, "取消")
    await bot.sim.image(me.openid)  # the dialog is over
    assert len(await photos(bot.services)) == evidence.MAX_PHOTOS


@pytest.fixture
async def world(aiohttp_client, db_url, api_base, tmp_path):  # noqa: F811
    world = await build_world(aiohttp_client, db_url, plugins=[console], wechat_api_base=api_base,
                              media_dir=str(tmp_path / "media"), media_attempts=3, http_timeout=0.5,
                              wechat_retry_attempts=1)
    await load_roster(world.services, ROSTER)
    async with world.services.db.transaction() as session:
        world.estate_id = await session.scalar(select(Estate.id).where(Estate.code == ESTATE))
        staff = await create_account(session, username="yjywh", display_name="谊景花园业委会", level="community",
                                     node=None, password=PASSWORD, committee=ESTATE)
        staff.password_hash = known_hash()
    return world


async def request_with_photo(world, control, building: str, room: str):  # noqa: F811
    from handlers.owners import verify

    resident = await add_owner(world.services, building, room)
    async with world.services.db.transaction() as session:
        row = await session.get(Resident, resident.id)
        assert await verify.request_staff(session, row, NOW) >= 1
        assert await evidence.receive(session, row, await put(control, "image", JPEG, "image/jpeg"), NOW)
    assert (await evidence.sweep(world.services, NOW)).stored == 1
    async with world.services.db.reading() as session:
        link_id = await session.scalar(select(func.min(OwnerLink.id)).where(OwnerLink.resident_id == resident.id))
    return resident, link_id


async def audited(world, action: str) -> list[str]:
    async with world.services.db.reading() as session:
        return list(await session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))


async def test_staff_see_the_photo_by_their_own_signed_link_and_approving_deletes_it(world, control, tmp_path):  # noqa: F811
    resident, link_id = await request_with_photo(world, control, "2", "201")
    [photo] = await photos(world.services)
    path = Path(tmp_path / "media" / photo.key)
    listed = await (await world.client.get("/api/v1/owners/links", headers=world.bearer("yijing"))).json()
    assert listed["items"][0]["evidence_photos"] == 1 and "url" not in listed["items"][0]

    csrf = await world.login("yijing")
    page = await (await world.client.get("/console/owners")).text()
    [url] = re.findall(r'href="(/console/owners/links/\d+/evidence/[^"]+)"', page)
    resp = await world.client.get(url)
    assert resp.status == 200 and await resp.read() == JPEG
    assert resp.headers["Content-Type"] == "image/jpeg" and resp.headers["Cache-Control"] == "private, no-store"
    assert len(await audited(world, "owners.evidence")) == 1
    token = url.rsplit("/", 1)[1]
    assert (await world.client.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))).status == 404
    assert (await world.client.get(f"/console/owners/links/{link_id + 1000}/evidence/{token}")).status == 404

    world.client.session.cookie_jar.clear()
    assert (await world.client.get(url, allow_redirects=False)).status in (302, 303, 401)
    await world.login("youyilu")  # the street above: in the jurisdiction, but the link was made for yijing
    assert (await world.client.get(url)).status == 404
    page = await (await world.client.get("/console/owners")).text()
    assert "/evidence/" in page  # their own link
    world.client.session.cookie_jar.clear()
    await world.login("pingjiang")  # another community: the request does not exist for them
    assert (await world.client.get(url)).status == 404
    assert "/evidence/" not in await (await world.client.get("/console/owners")).text()
    world.client.session.cookie_jar.clear()
    await world.login("yjywh")  # the owners' committee never sees owners' requests
    assert (await world.client.get(url)).status == 403
    assert "/evidence/" not in await (await world.client.get("/console/owners")).text()

    world.client.session.cookie_jar.clear()
    csrf = await world.login("yijing")
    resp = await world.client.post(f"/console/owners/links/{link_id}/approve", data={"_csrf": csrf, "evidence": "on"},
                                   allow_redirects=False)
    assert resp.status == 303
    assert not path.exists() and await photos(world.services) == []
    assert "材料照片 1 张已删除" in (await audited(world, "owners.verify"))[0]
    assert (await world.client.get(url)).status == 404
    async with world.services.db.reading() as session:  # the resident is told
        told = list(await session.scalars(select(Broadcast.text).where(Broadcast.created_by == "owners:verify")))
    assert any("已由社区工作人员核验" in (t or "") for t in told)


async def test_rejecting_deletes_the_photos_and_withdraws_the_request(world, control, tmp_path):  # noqa: F811
    resident, link_id = await request_with_photo(world, control, "1", "1-101")  # co-owned: two requests
    [photo] = await photos(world.services)
    path = Path(tmp_path / "media" / photo.key)
    url = f"/api/v1/owners/links/{link_id}/reject"
    assert (await world.client.post(url, json={"reason": "x"}, headers=world.bearer("pingjiang"))).status == 404
    resp = await world.client.post(url, json={"reason": "照片不清楚，请到社区"}, headers=world.bearer("yijing"))
    body = await resp.json()
    assert resp.status == 200 and body == {"id": link_id, "status": "rejected", "requests_withdrawn": 2}
    assert not path.exists() and await photos(world.services) == []
    async with world.services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerLink)
                                    .where(OwnerLink.resident_id == resident.id)) == 0
        told = list(await session.scalars(select(Broadcast.text).where(Broadcast.created_by == "owners:verify")))
    assert any("未通过：照片不清楚，请到社区" in (t or "") for t in told), told
    [entry] = await audited(world, "owners.reject")
    assert "驳回 2 项申请，材料照片 1 张已删除" in entry
    assert (await world.client.post(url, json={}, headers=world.bearer("yijing"))).status == 404  # gone


async def test_a_photo_wechat_no_longer_has_fails_and_is_shown_as_such(world, control):  # noqa: F811
    resident = await add_owner(world.services, "2", "202")
    async with world.services.db.transaction() as session:
        row = await session.get(Resident, resident.id)
        await evidence.receive(session, row, "no-such-media", NOW)
    report = await evidence.sweep(world.services, NOW)
    assert report.failed == 1
    [photo] = await photos(world.services)
    assert photo.status == "failed" and photo.key is None and photo.media_id is None
