"""The owners' console pages and API on SQLite and PostgreSQL: the roster inside and outside the jurisdiction
(phones only masked), corrections audited, staff verification (evidence required; as proxy), motions created in
the jurisdiction only, turnout without choices, paper ballots with their collector, the archive export for street
level and above, the recount equal to the published result."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.owners import jobs
from storage.console_models import AuditEntry
from storage.owner_models import OwnerLink, RosterRoom
from tests.console.conftest import NOW
from tests.owners.conftest import add_owner, console_world


@pytest.fixture
async def world(aiohttp_client, db_url):
    return await console_world(aiohttp_client, db_url)


async def audited(world, action: str) -> list[str]:
    async with world.services.db.transaction() as session:
        return list(await session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))


async def test_roster_in_and_out_of_the_jurisdiction_with_masked_phones(world):
    url = f"/api/v1/owners/estates/{world.estate_id}/roster"
    resp = await world.client.get(url, headers=world.bearer("yijing"))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["totals"] == {"households": 5, "owners": 4, "area": "404.95", "owners_listed": 4}
    text = await resp.text()
    assert "138****0001" in text and "13800000001" not in text
    assert (await world.client.get(url, headers=world.bearer("pingjiang"))).status == 404
    assert (await world.client.get(url, headers=world.bearer("hexi"))).status == 200
    page = await world.client.get(f"/console/owners/estates/{world.estate_id}?building=2")
    assert page.status in (200, 303)
    csrf = await world.login("yijing")
    page = await world.client.get(f"/console/owners/estates/{world.estate_id}?building=2")
    html = await page.text()
    assert page.status == 200 and "203室" in html and "13800000004" not in html
    async with world.services.db.transaction() as session:
        room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "202"))
    resp = await world.client.post(f"/console/owners/rooms/{room.id}",
                                   data={"_csrf": csrf, "area": "61.20", "owners": "赵六"}, allow_redirects=False)
    assert resp.status == 303
    assert await audited(world, "owners.room") == ["2号楼202室：面积 60.10 → 61.20"]
    async with world.services.db.transaction() as session:  # the name alone kept 赵六 and his phone
        from storage.owner_models import RosterOwner
        zhao = await session.scalar(select(RosterOwner).where(RosterOwner.name == "赵六"))
        assert zhao.phone == "13800000004"
    bad = await world.client.post(f"/api/v1/owners/rooms/{room.id}", json={"area": "abc"},
                                  headers=world.bearer("yijing"))
    assert bad.status == 422 and "面积" in (await bad.json())["message"]


async def test_staff_verification_needs_the_evidence_and_records_a_proxy(world):
    me = await add_owner(world.services, "2", "201")
    from handlers.owners import verify

    async with world.services.db.transaction() as session:
        from storage.models import Resident
        assert await verify.request_staff(session, await session.get(Resident, me.id), NOW) == 1
        link = await session.scalar(select(OwnerLink).where(OwnerLink.resident_id == me.id))
    listed = await (await world.client.get("/api/v1/owners/links", headers=world.bearer("yijing"))).json()
    assert [i["id"] for i in listed["items"]] == [link.id] and listed["items"][0]["phone_masked"] == "138****0003"
    assert (await (await world.client.get("/api/v1/owners/links", headers=world.bearer("pingjiang"))).json()
            )["items"] == []
    url = f"/api/v1/owners/links/{link.id}/approve"
    assert (await world.client.post(url, json={"evidence_seen": True},
                                    headers=world.bearer("pingjiang"))).status == 404
    assert (await world.client.post(url, json={"evidence_seen": False}, headers=world.bearer("yijing"))).status == 403
    resp = await world.client.post(url, json={"evidence_seen": True, "proxy_name": "王小五"},
                                   headers=world.bearer("yijing"))
    assert (await resp.json()) == {"id": link.id, "status": "verified", "method": "proxy", "proxy_name": "王小五"}
    assert (await world.client.post(url, json={"evidence_seen": True}, headers=world.bearer("yijing"))).status == 409
    assert len(await audited(world, "owners.verify")) == 1


async def test_motion_paper_ballots_export_and_recount(world):
    body = {"estate_id": world.estate_id, "title": "使用维修资金更换2号楼电梯", "body": "预算 48 万元，报价三家。",
            "kind": "ordinary", "opens_at": "2026-11-20T09:00", "closes_at": "2026-11-21T18:00"}
    refused = await world.client.post("/api/v1/owners/motions", json=body, headers=world.bearer("pingjiang"))
    assert refused.status == 422
    bad = await world.client.post("/api/v1/owners/motions", json={**body, "buildings": ["9"]},
                                  headers=world.bearer("yijing"))
    assert bad.status == 422 and "9" in (await bad.json())["message"]
    resp = await world.client.post("/api/v1/owners/motions", json=body, headers=world.bearer("yijing"))
    motion = await resp.json()
    assert resp.status == 201 and motion["status"] == "open"
    mid = motion["id"]
    async with world.services.db.transaction() as session:
        rooms = {r.room: r.id for r in await session.scalars(select(RosterRoom))}
    paper = f"/api/v1/owners/motions/{mid}/ballots"
    for room, choice in (("101", "yes"), ("102", "yes"), ("201", "no")):
        resp = await world.client.post(paper, json={"room_id": rooms[room], "choice": choice, "collector": "楼长刘阿姨"},
                                       headers=world.bearer("yijing"))
        assert resp.status == 201, await resp.text()
    assert (await world.client.post(paper, json={"room_id": rooms["101"], "choice": "yes", "collector": ""},
                                    headers=world.bearer("yijing"))).status == 422
    shown = await (await world.client.get(f"/api/v1/owners/motions/{mid}", headers=world.bearer("yijing"))).json()
    assert shown["turnout"]["voted_rooms"] == 3 and shown["turnout"]["voted_heads"] == 2
    assert "yes" not in str(shown["turnout"])
    assert (await world.client.get(f"/api/v1/owners/motions/{mid}", headers=world.bearer("pingjiang"))).status == 404
    export = f"/api/v1/owners/motions/{mid}/ballots"
    assert (await world.client.get(export, headers=world.bearer("yijing"))).status == 403
    assert (await world.client.get(export, headers=world.bearer("youyilu"))).status == 409  # not while open
    assert (await world.client.get(f"/api/v1/owners/motions/{mid}/recount",
                                   headers=world.bearer("yijing"))).status == 409
    await jobs.sweep(world.services, NOW + timedelta(days=2))
    rows = await (await world.client.get(export, headers=world.bearer("youyilu"))).json()
    assert [r[4] for r in rows["rows"]] == ["同意", "同意", "反对"] and rows["rows"][0][7] == "楼长刘阿姨"
    csv_resp = await world.client.get(export + "?format=csv", headers=world.bearer("youyilu"))
    assert csv_resp.status == 200 and "楼长刘阿姨" in await csv_resp.text()
    recount = await (await world.client.get(f"/api/v1/owners/motions/{mid}/recount",
                                            headers=world.bearer("yijing"))).json()
    assert recount["matches"] is True
    # area: yes 89.50 + 120.25 = 209.75 of 284.75 voted; heads: 张三李四 yes, 王五 (102 yes 120.25 vs 201 no 75) yes
    assert recount["recount"]["area"]["yes"] == "209.75" and recount["recount"]["heads"]["yes"] == 2
    assert recount["recount"]["quorum_heads"] is False and recount["recount"]["passed"] is False
    csrf = await world.login("yijing")
    page = await world.client.get(f"/console/owners/motions/{mid}")
    html = await page.text()
    assert page.status == 200 and "未达到法定比例" in html and "导出表决票清单" not in html
    index = await world.client.get("/console/owners")
    assert index.status == 200 and "谊景花园" in await index.text()
    made = await world.client.post("/console/owners/motions", data={
        "_csrf": csrf, "estate_id": str(world.estate_id), "title": "", "body": "x", "kind": "ordinary",
        "opens_at": "2026-11-20T09:00", "closes_at": "2026-11-21T18:00"}, allow_redirects=False)
    assert made.status == 422 and "请填写标题" in await made.text()


async def test_page_forms_approve_paper_export_and_disclose(world):
    from handlers.owners import verify
    from storage.models import Resident

    me = await add_owner(world.services, "2", "201")
    async with world.services.db.transaction() as session:
        await verify.request_staff(session, await session.get(Resident, me.id), NOW)
        link = await session.scalar(select(OwnerLink).where(OwnerLink.resident_id == me.id))
    csrf = await world.login("yijing")
    index = await (await world.client.get("/console/owners")).text()
    assert "待人工核验的业主（1）" in index and "138****0003" in index and "13800000003" not in index
    url = f"/console/owners/links/{link.id}/approve"
    await world.client.post(url, data={"_csrf": csrf}, allow_redirects=False)  # evidence not ticked
    async with world.services.db.transaction() as session:
        assert (await session.get(OwnerLink, link.id)).status == "unverified"
    resp = await world.client.post(url, data={"_csrf": csrf, "evidence": "on"}, allow_redirects=False)
    assert resp.status == 303
    async with world.services.db.transaction() as session:
        assert (await session.get(OwnerLink, link.id)).method == "staff"
    made = await world.client.post("/console/owners/motions", data={
        "_csrf": csrf, "estate_id": str(world.estate_id), "title": "更换2号楼电梯", "body": "说明", "kind": "special",
        "topic": "repair_fund", "works": "更换电梯一部", "budget": "48 万元", "quotes": "甲公司 47.5 万元，乙公司 49 万元",
        "opens_at": "2026-11-20T09:00", "closes_at": "2026-11-21T18:00"}, allow_redirects=False)
    assert made.status == 303, await made.text()
    motion_url = made.headers["Location"]
    page = await (await world.client.get(motion_url)).text()
    assert "乙公司 49 万元" in page and "录入纸质表决票" in page
    for building, unit, room in (("1", "1", "101"), ("1", "1", "102"), ("2", "", "202"), ("2", "", "203")):
        resp = await world.client.post(motion_url + "/paper", data={
            "_csrf": csrf, "building": building, "unit": unit, "room": room, "choice": "yes", "collector": "刘阿姨"},
            allow_redirects=False)
        assert resp.status == 303
    resp = await world.client.post(motion_url + "/paper", data={
        "_csrf": csrf, "building": "9", "unit": "", "room": "901", "choice": "yes", "collector": "刘阿姨"},
        allow_redirects=False)
    assert resp.status == 303  # refused with a message, nothing stored
    assert len(await audited(world, "owners.paper")) == 4
    assert (await world.client.get(motion_url + "/ballots.csv")).status == 403
    await jobs.sweep(world.services, NOW + timedelta(days=2))
    page = await (await world.client.get(motion_url)).text()
    assert "表决结果：通过" in page and "公示支出" in page
    resp = await world.client.post(motion_url + "/disclosure", data={"_csrf": csrf, "text": "已支付 47.5 万元"},
                                   allow_redirects=False)
    assert resp.status == 303 and len(await audited(world, "owners.disclose")) == 1
    assert "维修资金支出已公示" in await (await world.client.get(motion_url)).text()
    await world.logout(csrf)
    await world.login("youyilu")
    export = await world.client.get(motion_url + "/ballots.csv")
    assert export.status == 200 and "刘阿姨" in await export.text()


async def test_election_page_offers_the_combinations_for_paper_ballots(world):
    body = {"estate_id": world.estate_id, "title": "业委会选举", "body": "选举第一届业主委员会。", "kind": "ordinary",
            "topic": "election", "details": {"candidates": ["刘一", "陈二", "张三"], "seats": 2},
            "opens_at": "2026-11-20T09:00", "closes_at": "2026-11-21T18:00"}
    resp = await world.client.post("/api/v1/owners/motions", json=body, headers=world.bearer("youyilu"))
    motion = await resp.json()
    assert resp.status == 201 and motion["topic"] == "election" and motion["details"]["seats"] == 2
    async with world.services.db.transaction() as session:
        room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "203"))
    paper = f"/api/v1/owners/motions/{motion['id']}/ballots"
    bad = await world.client.post(paper, json={"room_id": room.id, "choice": "c:0,1,2", "collector": "刘阿姨"},
                                  headers=world.bearer("yijing"))
    assert bad.status == 422
    ok = await world.client.post(paper, json={"room_id": room.id, "choice": "c:0,2", "collector": "刘阿姨"},
                                 headers=world.bearer("yijing"))
    assert ok.status == 201
    await world.login("yijing")
    page = await (await world.client.get(f"/console/owners/motions/{motion['id']}")).text()
    assert 'value="c:0,2">刘一、张三</option>' in page and "应选 2 名" in page
