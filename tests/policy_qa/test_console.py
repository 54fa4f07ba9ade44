"""Policy Q&A in the console: inquiries and gaps only inside the jurisdiction, answering through page and API."""
from __future__ import annotations

from sqlalchemy import select

from storage.delivery_models import Broadcast
from storage.policy_qa_models import Inquiry
from storage.repositories import policy_qa as repo
from tests.console.conftest import NOW, build_world


async def _inquiry(world, short: str, question: str) -> int:
    resident = await world.add_resident(short)
    async with world.services.db.transaction() as session:
        inquiry = await repo.open_inquiry(session, resident_ref=resident.ref, resident_id=resident.id,
                                          community_id=resident.community_id, question=question, now=NOW)
        await repo.record_gap(session, question, question, "none", resident.community_id, NOW)
        return inquiry.id


async def test_inquiries_are_scoped_and_answered(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url)
    mine = await _inquiry(world, "YJ", "谊景社区的电梯什么时候修好")
    theirs = await _inquiry(world, "LS", "梅江的停车位怎么租")
    listed = await (await world.client.get("/api/v1/qa/inquiries", headers=world.bearer("yijing"))).json()
    assert [i["id"] for i in listed["inquiries"]] == [mine]
    gaps = await (await world.client.get("/api/v1/qa/gaps", headers=world.bearer("yijing"))).json()
    assert [g["question"] for g in gaps["gaps"]] == ["谊景社区的电梯什么时候修好"]
    outside = await world.client.post(f"/api/v1/qa/inquiries/{theirs}/answer", headers=world.bearer("yijing"),
                                      json={"answer": "不归我管"})
    assert outside.status == 404
    empty = await world.client.post(f"/api/v1/qa/inquiries/{mine}/answer", headers=world.bearer("yijing"),
                                    json={"answer": "  "})
    assert empty.status == 422
    done = await world.client.post(f"/api/v1/qa/inquiries/{mine}/answer", headers=world.bearer("yijing"),
                                   json={"answer": "电梯配件已到，周五前修好。"})
    assert done.status == 200 and (await done.json())["status"] == "answered"
    again = await world.client.post(f"/api/v1/qa/inquiries/{mine}/answer", headers=world.bearer("yijing"),
                                    json={"answer": "再答一次"})
    assert again.status == 422
    hexi = await (await world.client.get("/api/v1/qa/inquiries", headers=world.bearer("hexi"))).json()
    assert [i["id"] for i in hexi["inquiries"]] == [theirs]
    async with world.services.db.transaction() as session:
        [pushed] = list(await session.scalars(select(Broadcast)))
    assert "周五前修好" in pushed.text and pushed.category == "ticket"


async def test_qa_page_answer_form_and_dashboard_panel(aiohttp_client, sqlite_url):
    world = await build_world(aiohttp_client, sqlite_url)
    inquiry_id = await _inquiry(world, "YJ", "物业费涨价要开会吗")
    csrf = await world.login("yijing")
    page = await (await world.client.get("/console/qa")).text()
    assert "物业费涨价要开会吗" in page and "重新加载知识库" not in page  # reload is for admins
    dashboard = await (await world.client.get("/console/")).text()
    assert "1 条转人工的咨询待答复" in dashboard
    resp = await world.client.post(f"/console/qa/inquiries/{inquiry_id}/answer",
                                   data={"answer": "需要业主大会表决。", "_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    async with world.services.db.transaction() as session:
        assert (await session.get(Inquiry, inquiry_id)).status == "answered"
    forged = await world.client.post(f"/console/qa/inquiries/{inquiry_id}/answer", data={"answer": "x"},
                                     allow_redirects=False)
    assert forged.status == 403  # no CSRF token
