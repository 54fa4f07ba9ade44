"""Managing the roster and motions in the console and API, on SQLite and PostgreSQL: importing a roster file by
upload (the CLI's parser, all-or-nothing, bad rows by line, only estates in the jurisdiction, audited); deleting
a room (refused while a motion holds its ballot); deleting an attachment (before the opening only); withdrawing a
motion (with a reason; once opened: no tally, voters told, a notice) and closing it early (only when every room
has voted). Each action is audited and refused outside the jurisdiction."""
from __future__ import annotations

import base64
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from handlers.owners import voting
from storage.console_models import AuditEntry
from storage.delivery_models import Broadcast
from storage.media_store import LocalStore
from storage.models import Estate, Resident
from storage.owner_models import Motion, MotionAttachment, RosterRoom
from tests.owners.conftest import NOW, add_owner, console_world, new_motion
from tests.owners.support import ESTATE, OTHER_STREET_ESTATE, csv_bytes, xlsx_bytes

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
async def world(aiohttp_client, db_url, tmp_path):
    world = await console_world(aiohttp_client, db_url)
    world.services.extras["media_store"] = LocalStore(str(tmp_path / "media"))
    world.clock.state["now"] = NOW  # the motions' time
    return world


async def audited(world, action: str) -> list[str]:
    async with world.services.db.reading() as session:
        return list(await session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))


def upload(csrf: str, data: bytes, filename: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


async def room_id(world, building: str, room: str) -> int:
    async with world.services.db.reading() as session:
        return await session.scalar(select(RosterRoom.id).where(RosterRoom.building == building,
                                                                RosterRoom.room == room))


async def test_roster_upload_all_or_nothing_with_lines_and_the_jurisdiction(world):
    csrf = await world.login("yijing")
    good = csv_bytes([[ESTATE, "3", "1", "301", "88.00", "孙七", "13800000007"],
                      [ESTATE, "3", "1", "302", "90.5", "", ""]])
    resp = await world.client.post("/console/owners/roster", data=upload(csrf, good, "名册.csv"))
    assert resp.status == 200 and "名册已导入：2 行" in await resp.text()
    async with world.services.db.reading() as session:
        assert (await session.scalar(select(Estate).where(Estate.code == ESTATE))).households == 7
    assert len(await audited(world, "owners.roster")) == 1

    bad = xlsx_bytes([[ESTATE, "3", "1", "303", "abc", "周八", "13800000008"],
                      [ESTATE, "", "1", "304", "80", "吴九", "13800000009"]])
    resp = await world.client.post("/console/owners/roster", data=upload(csrf, bad, "bad.xlsx"))
    html = await resp.text()
    assert resp.status == 422 and "第2行" in html and "第3行" in html and "未导入任何数据" in html
    outside = csv_bytes([[OTHER_STREET_ESTATE, "1", "", "101", "80", "郑十", "13800000010"],
                         [ESTATE, "3", "1", "305", "80", "", ""]])
    resp = await world.client.post("/console/owners/roster", data=upload(csrf, outside, "o.csv"))
    html = await resp.text()
    assert resp.status == 422 and "不在您的辖区内" in html
    empty = await world.client.post("/console/owners/roster", data=upload(csrf, b"", "e.csv"))
    assert empty.status == 422 and "请选择名册文件" in await empty.text()
    async with world.services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(RosterRoom)
                                    .where(RosterRoom.building == "3")) == 2  # nothing of the bad files
    assert len(await audited(world, "owners.roster")) == 1

    # the API: the same import, the file as base64
    api = "/api/v1/owners/roster"
    body = {"filename": "bad.xlsx", "content_base64": base64.b64encode(bad).decode()}
    resp = await world.client.post(api, json=body, headers=world.bearer("yijing"))
    failed = await resp.json()
    assert resp.status == 422 and len(failed["problems"]) == 2 and "第2行" in failed["problems"][0]
    resp = await world.client.post(api, json={**body, "content_base64": "@@"}, headers=world.bearer("yijing"))
    assert resp.status == 422
    more = csv_bytes([[ESTATE, "3", "1", "306", "70", "", ""]])
    body = {"filename": "more.csv", "content_base64": base64.b64encode(more).decode()}
    assert (await world.client.post(api, json=body, headers=world.bearer("pingjiang"))).status == 422
    resp = await world.client.post(api, json=body, headers=world.bearer("yijing"))
    done = await resp.json()
    assert resp.status == 200 and done["rooms_new"] == 1 and done["message"].startswith("名册已导入")
    assert len(await audited(world, "owners.roster")) == 2


async def test_delete_a_room_unless_a_motion_holds_its_ballot(world):
    mid = await new_motion(world.services)
    voter = await add_owner(world.services, "2", "202")
    async with world.services.db.transaction() as session:
        from handlers.owners import verify
        resident = await session.get(Resident, voter.id)
        await verify.request_staff(session, resident, NOW)
        from storage.owner_models import OwnerLink
        for link in await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == voter.id)):
            await verify.approve(session, link, staff="staff:yijing", proxy_name=None, now=NOW)
        motion = await session.get(Motion, mid)
        assert await voting.cast_chat(session, motion, resident, "yes", NOW)
    held, free = await room_id(world, "2", "202"), await room_id(world, "2", "203")
    assert (await world.client.delete(f"/api/v1/owners/rooms/{free}", headers=world.bearer("pingjiang"))).status == 404
    refused = await world.client.delete(f"/api/v1/owners/rooms/{held}", headers=world.bearer("yijing"))
    assert refused.status == 409 and "进行中的表决" in (await refused.json())["message"]
    resp = await world.client.delete(f"/api/v1/owners/rooms/{free}", headers=world.bearer("yijing"))
    assert resp.status == 200 and await resp.json() == {"deleted": free, "households": 4}
    assert await audited(world, "owners.room.delete") == [f"删除房屋 {free} 2号楼203室"]
    csrf = await world.login("yijing")
    page = await world.client.post(f"/console/owners/rooms/{held}/delete", data={"_csrf": csrf})
    assert "不能删除" in await page.text()
    assert (await world.client.delete(f"/api/v1/owners/rooms/{free}", headers=world.bearer("yijing"))).status == 404


async def test_delete_an_attachment_only_before_the_opening(world):
    mid = await new_motion(world.services, opens=NOW + timedelta(days=1), closes=NOW + timedelta(days=8))
    csrf = await world.login("yijing")
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", PDF, filename="a.pdf", content_type="application/pdf")
    assert (await world.client.post(f"/console/owners/motions/{mid}/attachments", data=form)).status == 200
    async with world.services.db.reading() as session:
        item = await session.scalar(select(MotionAttachment).where(MotionAttachment.motion_id == mid))
        session.expunge(item)
    url = f"/api/v1/owners/motions/{mid}/attachments/{item.id}"
    assert (await world.client.delete(url, headers=world.bearer("pingjiang"))).status == 404
    assert (await world.client.delete(f"/api/v1/owners/motions/{mid}/attachments/999999",
                                      headers=world.bearer("yijing"))).status == 404
    resp = await world.client.delete(url, headers=world.bearer("yijing"))
    assert resp.status == 200 and await resp.json() == {"deleted": item.id}
    store = world.services.extras["media_store"]
    assert not (store.root / item.key).exists()
    assert len(await audited(world, "owners.attachment.delete")) == 1
    opened = await new_motion(world.services)  # already open: its files stay
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", PDF, filename="b.pdf", content_type="application/pdf")
    async with world.services.db.transaction() as session:
        from storage.repositories import owners as repo
        row = repo.add_attachment(session, opened, purpose="text", name="b", content_type="application/pdf",
                                  size=len(PDF), key="202612/x.pdf", uploaded_by="staff:yijing", now=NOW)
        await session.flush()
        kept_id = row.id
    refused = await world.client.delete(f"/api/v1/owners/motions/{opened}/attachments/{kept_id}",
                                        headers=world.bearer("yijing"))
    assert refused.status == 409 and "已经开始" in (await refused.json())["message"]


async def test_withdraw_before_and_after_the_opening(world):
    later = await new_motion(world.services, opens=NOW + timedelta(days=1), closes=NOW + timedelta(days=8),
                             title="增设充电桩")
    url = f"/api/v1/owners/motions/{later}/withdraw"
    assert (await world.client.post(url, json={"reason": "x"}, headers=world.bearer("pingjiang"))).status == 404
    assert (await world.client.post(url, json={"reason": " "}, headers=world.bearer("yijing"))).status == 422
    resp = await world.client.post(url, json={"reason": "方案需要修改"}, headers=world.bearer("yijing"))
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "withdrawn" and body["notice_ref"] is None
    assert body["result"]["withdrawn"]["reason"] == "方案需要修改"
    again = await world.client.post(url, json={"reason": "再次"}, headers=world.bearer("yijing"))
    assert again.status == 409

    mid = await new_motion(world.services)  # open, one owner voted in chat
    voter = await add_owner(world.services, "2", "202")
    async with world.services.db.transaction() as session:
        from handlers.owners import verify
        from storage.owner_models import OwnerLink
        resident = await session.get(Resident, voter.id)
        await verify.request_staff(session, resident, NOW)
        for link in await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == voter.id)):
            await verify.approve(session, link, staff="staff:yijing", proxy_name=None, now=NOW)
        assert await voting.cast_chat(session, await session.get(Motion, mid), resident, "no", NOW)
    csrf = await world.login("yijing")
    resp = await world.client.post(f"/console/owners/motions/{mid}/withdraw", data={"_csrf": csrf, "reason": "议题有误"})
    assert resp.status == 200 and "已撤销" in await resp.text()
    async with world.services.db.reading() as session:
        motion = await session.get(Motion, mid)
        told = list(await session.scalars(select(Broadcast).where(Broadcast.source == f"motion:{mid}:withdrawn")))
        session.expunge_all()
    assert motion.status == "withdrawn" and motion.notice_ref and motion.result["withdrawn"]["ballots"] == 1
    assert "verdict" not in motion.result  # no tally
    assert any(b.scope.get("residents") == [voter.id] and "议题有误" in b.text for b in told)
    assert len(await audited(world, "owners.withdraw")) == 2
    page = await (await world.client.get(f"/console/owners/motions/{mid}")).text()
    assert "撤销原因：议题有误" in page


async def test_close_early_only_when_every_room_voted(world):
    mid = await new_motion(world.services, buildings=["1"])  # 1-1-101 (co-owned) and 1-1-102
    url = f"/api/v1/owners/motions/{mid}/close"
    refused = await world.client.post(url, headers=world.bearer("yijing"))
    assert refused.status == 409 and "还有 2 套房屋未表决" in (await refused.json())["message"]
    assert (await world.client.post(url, headers=world.bearer("pingjiang"))).status == 404
    csrf = await world.login("yijing")
    for room in ("101", "102"):
        resp = await world.client.post(f"/console/owners/motions/{mid}/paper",
                                       data={"_csrf": csrf, "building": "1", "unit": "1", "room": room,
                                             "choice": "yes", "collector": "楼长"})
        assert resp.status == 200
    resp = await world.client.post(url, headers=world.bearer("yijing"))
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "closed" and body["result"]["verdict"]
    assert body["result"]["closed_early"]["by"] == "staff:yijing" and body["notice_ref"]
    assert body["closes_at"].startswith(NOW.isoformat()[:16]) or body["closed_at"]
    assert len(await audited(world, "owners.close")) == 1
    assert (await world.client.post(url, headers=world.bearer("yijing"))).status == 409
    withdraw = await world.client.post(f"/api/v1/owners/motions/{mid}/withdraw", json={"reason": "x"},
                                       headers=world.bearer("yijing"))
    assert withdraw.status == 409


async def test_a_wrong_verification_is_revoked_and_its_open_ballots_void(world):
    """撤销核验 from the roster page (and the API): the resident is 未核验 again and told why; their chat ballot in
    the open motion goes (the room may vote again); a closed motion keeps its ballots; audited; only staff with
    the jurisdiction, only a verified link, and a reason is required."""
    from handlers.owners import verify
    from storage.owner_models import OwnerBallot, OwnerLink

    mid = await new_motion(world.services)
    voter = await add_owner(world.services, "2", "202")
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, voter.id)
        await verify.request_staff(session, resident, NOW)
        [link] = list(await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == voter.id)))
        link_id = link.id
        await verify.approve(session, link, staff="staff:yijing", proxy_name=None, now=NOW)
        assert await voting.cast_chat(session, await session.get(Motion, mid), resident, "yes", NOW)
        assert await verify.status_of(session, resident) == "已核验"

    csrf = await world.login("yijing")
    page = await (await world.client.get(f"/console/owners/estates/{world.estate_id}?building=2")).text()
    assert f"/console/owners/links/{link_id}/revoke" in page and "已核验" in page
    # outside the jurisdiction: like a missing link; no reason: refused, nothing changes
    other = await world.client.post(f"/api/v1/owners/links/{link_id}/revoke", headers=world.bearer("pingjiang"),
                                    json={"reason": "x"})
    assert other.status == 404
    empty = await world.client.post(f"/console/owners/links/{link_id}/revoke", data={"_csrf": csrf, "reason": " "})
    assert "请写明撤销核验的原因" in await empty.text()
    resp = await world.client.post(f"/console/owners/links/{link_id}/revoke",
                                   data={"_csrf": csrf, "reason": "该房屋已于11月出售，名册待更新"})
    body = await resp.text()
    assert "已撤销 赵六 的业主身份核验并通知居民，作废进行中表决的选票 1 张" in body
    async with world.services.db.reading() as session:
        assert await session.get(OwnerLink, link_id) is None
        assert await session.scalar(select(func.count()).select_from(OwnerBallot)
                                    .where(OwnerBallot.motion_id == mid)) == 0
        resident = await session.get(Resident, voter.id)
        assert await verify.status_of(session, resident) == verify.UNVERIFIED
    told = [b for b in await _pushes(world) if "撤销了您的业主身份核验" in b]
    assert told and "该房屋已于11月出售" in told[-1] and "选票已作废" in told[-1]
    assert await audited(world, "owners.revoke") == [
        f"业主 {await _owner_id(world, '赵六')}，核验记录 {link_id}：撤销核验（该房屋已于11月出售，名册待更新），作废选票 1 张"]
    # a link no longer there, or not verified: 404 / 409 through the API
    gone = await world.client.post(f"/api/v1/owners/links/{link_id}/revoke", headers=world.bearer("yijing"),
                                   json={"reason": "再次"})
    assert gone.status == 404
    async with world.services.db.transaction() as session:
        await verify.request_staff(session, await session.get(Resident, voter.id), NOW)
        [pending] = list(await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == voter.id)))
    refused = await world.client.post(f"/api/v1/owners/links/{pending.id}/revoke", headers=world.bearer("yijing"),
                                      json={"reason": "未核验"})
    assert refused.status == 409 and "驳回" in (await refused.json())["message"]


async def _pushes(world) -> list[str]:
    async with world.services.db.reading() as session:
        return list(await session.scalars(select(Broadcast.text).order_by(Broadcast.id)))


async def _owner_id(world, name: str) -> int:
    from storage.owner_models import RosterOwner

    async with world.services.db.reading() as session:
        return await session.scalar(select(RosterOwner.id).where(RosterOwner.name == name))
