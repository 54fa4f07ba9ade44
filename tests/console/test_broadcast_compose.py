"""The 群发 compose form: scope picker limited to the jurisdiction, per-field errors, the confirmation page with
preview and recipient count (muted and unfollowed residents not counted), nothing queued before 确认发送, a send
time in Beijing time, a hand-made scope outside the jurisdiction refused; the list shows Beijing time and names."""
from __future__ import annotations

from sqlalchemy import func, select

from storage.delivery_models import Broadcast, DeliveryMute
from storage.models import Resident
from storage.repositories import deliveries
from tests.console.conftest import build_world


async def _count(world) -> int:
    async with world.services.db.transaction() as session:
        return await session.scalar(select(func.count(Broadcast.id)))


async def test_compose_preview_count_confirm_and_send(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url)
    yj = world.community["YJ"]
    for _ in range(2):
        await world.add_resident("YJ")
    muted = await world.add_resident("YJ")
    async with world.services.db.transaction() as session:
        session.add(DeliveryMute(resident_id=muted.id, category="notice"))
        total = await session.scalar(select(func.count(Resident.id)).where(Resident.community_id == yj))
    csrf = await world.login("yijing")
    form = await (await world.client.get("/console/broadcasts/new")).text()
    assert f'value="community:{yj}"' in form and "平江社区" not in form and 'value="all"' not in form
    assert "投诉进度" not in form  # not sent by hand
    bad = await world.client.post("/console/broadcasts/new", data={"_csrf": csrf, "step": "preview",
                                                                   "category": "notice", "text": ""})
    page = await bad.text()
    assert bad.status == 422 and "请选择发送范围" in page and "请填写消息内容" in page
    fields = {"_csrf": csrf, "scope": f"community:{yj}", "category": "notice", "roles": "", "title": "停水通知",
              "text": "12月8日9:00-15:00谊景花园停水，请提前储水。", "send_at": ""}
    preview = await world.client.post("/console/broadcasts/new", data={**fields, "step": "preview"})
    page = await preview.text()
    assert preview.status == 200 and "确认群发" in page and "请提前储水" in page and "谊景社区" in page
    assert f'<b class="reach">{total - 1}</b>' in page and f"范围内共 {total} 位" in page  # the muted one is not
    assert await _count(world) == 0  # nothing queued before 确认发送
    back = await world.client.post("/console/broadcasts/new", data={**fields, "step": "edit"})
    assert "请提前储水" in await back.text() and "预览并确认" in await back.text()
    sent = await world.client.post("/console/broadcasts/new", data={**fields, "step": "send"}, allow_redirects=False)
    assert sent.status == 303 and sent.headers["Location"].startswith("/console/broadcasts/")
    async with world.services.db.transaction() as session:
        b = (await session.execute(select(Broadcast))).scalar_one()
        assert b.created_by == "staff:yijing" and b.scope["level"] == "community" and b.reach == [yj]
        while await deliveries.expand_step(session, b.id, 1000):
            pass
    detail = await (await world.client.get(sent.headers["Location"])).text()
    assert "居民退订了这一类推送" in detail and ">muted<" not in detail  # the reason in words
    later = await world.client.post("/console/broadcasts/new", data={**fields, "step": "send",
                                                                      "send_at": "2026-11-21T09:30"})
    assert "已排定群发" in await later.text()
    async with world.services.db.transaction() as session:
        b = (await session.execute(select(Broadcast).order_by(Broadcast.id.desc()))).scalars().first()
        assert b.status == "scheduled" and b.send_at.isoformat().startswith("2026-11-21T01:30")  # 09:30 北京
    listing = await (await world.client.get("/console/broadcasts")).text()
    assert "2026-11-21 09:30" in listing and "谊景社区演示账号" in listing and "staff:yijing" not in listing
    past = await world.client.post("/console/broadcasts/new", data={**fields, "step": "preview",
                                                                     "send_at": "2026-11-01T09:00"})
    assert past.status == 422 and "发送时间已过" in await past.text()


async def test_compose_refuses_a_scope_outside_the_jurisdiction(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url)
    csrf = await world.login("yijing")
    fields = {"_csrf": csrf, "scope": f"community:{world.community['PJ']}", "category": "notice", "roles": "",
              "title": "", "text": "越权", "send_at": ""}
    for step in ("preview", "send"):
        resp = await world.client.post("/console/broadcasts/new", data={**fields, "step": step})
        assert resp.status == 403
    assert await _count(world) == 0
    resp = await world.client.post("/console/broadcasts/new", data={**fields, "scope": "all", "step": "send"})
    assert resp.status == 403 and await _count(world) == 0
    await world.logout(csrf)
    assert (await world.client.get("/console/broadcasts/new", allow_redirects=False)).status in (302, 303, 401)
