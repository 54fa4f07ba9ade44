"""The console API and the command line over the same figures."""
from __future__ import annotations

import argparse

from sqlalchemy import select

from bot.app import create_app
from bot.delivery.cli import add_subcommands
from bot.sandbox.faults import Fault
from handlers import broadcasts
from storage.models import Staff
from storage.repositories import staff as staff_repo
from tests.conftest import in_thread


async def test_api_create_show_list_retry(world, aiohttp_client):
    await world.seed(6)
    world.sb.state.users["o_r00002"].followed = False
    app = create_app(world.services.settings, services=world.services, routers=[], plugins=[broadcasts.console])
    tokens = {}
    async with world.services.db.transaction() as session:
        for staff in await session.scalars(select(Staff)):
            _, tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "t", world.services.clock())
    raw = await aiohttp_client(app)
    client = _Authorized(raw, tokens["yijing"])  # the community worker of 谊景社区
    assert (await raw.get("/api/v1/broadcasts")).status == 401
    resp = await client.post("/api/v1/broadcasts", json={
        "category": "notice", "scope": {"level": "community", "codes": ["HX-YYL-YJ"], "roles": ["owner"]},
        "content": {"text": "停水通知：周六 9:00–12:00", "title": "停水通知"}})
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["status"] == "sending" and created["total"] == 0 and created["created_by"] == "staff:yijing"
    # outside the jurisdiction: neither sending, nor seeing, nor retrying
    other = _Authorized(raw, tokens["youyilu"])  # the street worker of 友谊路街道
    assert (await client.post("/api/v1/broadcasts", json={
        "category": "notice", "scope": {"level": "street", "codes": ["HX-MJ"]}, "content": {"text": "x"}})).status == 403
    assert (await client.post("/api/v1/broadcasts", json={
        "category": "notice", "scope": {"level": "all"}, "content": {"text": "全市"}})).status == 403
    pingjiang = await _community_broadcast(world, "HX-YYL-PJ")
    assert (await client.get(f"/api/v1/broadcasts/{pingjiang}")).status == 404
    assert (await client.post(f"/api/v1/broadcasts/{pingjiang}/retry-failed")).status == 404
    assert (await other.get(f"/api/v1/broadcasts/{pingjiang}")).status == 200  # the street sees both
    world.sb.faults.add(Fault.from_json({"endpoint": "message/template/send", "errcode": 40037, "count": 1}))
    await world.run()
    shown = await (await client.get(f"/api/v1/broadcasts/{created['id']}")).json()
    assert shown["counts"] == {"queued": 0, "sending": 0, "sent": 4, "failed": 1, "skipped": 1}
    assert shown["reasons"]["skipped"] == {"not_following": 1}
    assert shown["reasons"]["failed"] == {"errcode_40037": 1}
    assert shown["status"] == "done" and shown["progress"] == 1.0 and shown["eta_seconds"] is None
    listed = await (await client.get("/api/v1/broadcasts")).json()
    assert [b["id"] for b in listed["broadcasts"]] == [created["id"]]  # not 平江's
    retried = await (await client.post(f"/api/v1/broadcasts/{created['id']}/retry-failed")).json()
    assert retried == {"requeued": 1}
    await world.run()
    shown = await (await client.get(f"/api/v1/broadcasts/{created['id']}")).json()
    assert shown["counts"]["sent"] == 5 and shown["status"] == "done"
    assert (await client.get("/api/v1/broadcasts/999")).status == 404
    bad = await client.post("/api/v1/broadcasts", json={"category": "party", "scope": {"level": "community",
                            "codes": ["HX-YYL-YJ"]}, "content": {"text": "x"}})
    assert bad.status == 422 and "category" in (await bad.json())["message"]  # refused by the schema
    bad = await client.post("/api/v1/broadcasts", json={"category": "notice", "scope": {"level": "estate",
                            "codes": ["NOPE"]}, "content": {"text": "x"}})
    assert "NOPE" in (await bad.json())["message"]


class _Authorized:
    """A test client that sends one staff member's API token with every call."""

    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    async def get(self, url):
        return await self.client.get(url, headers=self.headers)

    async def post(self, url, **kw):
        return await self.client.post(url, headers=self.headers, **kw)


async def _community_broadcast(world, code: str) -> int:
    from bot.delivery import Content, outbox

    async with world.services.db.transaction() as session:
        scope = await outbox.scope_from_codes(session, "community", [code], None)
        b = await outbox.create_broadcast(session, category="notice", scope=scope, content=Content("别处的通知"),
                                          created_by="staff:pingjiang")
        return b.id


def _linli(*argv):
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return in_thread(args.func, args)


async def test_cli_send_status_list_retry(world, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", world.services.settings.database_url)
    await world.seed(3)
    assert _linli("broadcast", "send", "--category", "meeting", "--level", "street", "--codes", "HX-YYL",
                  "--title", "联席会议纪要", "--text", "第三季度联席会议纪要") == 0
    assert "群发 1 已创建（发送中）" in capsys.readouterr().out
    await world.run(LINLI_DELIVERY_TEMPLATE_MEETING="TPL_MEETING")
    assert _linli("broadcast", "status", "1", "--once") == 0
    out = capsys.readouterr().out
    assert "100.0%" in out and "已发送 3" in out and "已完成" in out
    assert _linli("broadcast", "list") == 0
    assert "联席会议纪要" in capsys.readouterr().out
    assert _linli("broadcast", "retry-failed", "1") == 0
    assert "没有失败的投递" in capsys.readouterr().out
    assert _linli("broadcast", "status", "9") == 1
    assert _linli("broadcast", "send", "--category", "notice", "--level", "community", "--codes", "XX",
                  "--text", "x") == 1
    assert "找不到这些辖区编码：XX" in capsys.readouterr().err


async def test_a_broadcast_keeps_its_jurisdiction_after_its_residents_leave(world, aiohttp_client):
    """Security issue 15.1: a broadcast to named residents stays with the jurisdiction it was created in; once its
    residents were erased or unbound it is an admin's, not everyone's."""
    from bot.delivery import Content, outbox
    from storage.models import Resident

    [pj_resident] = await world.seed(1, estate="HX-YYL-PJ-01", prefix="o_pj")
    async with world.services.db.transaction() as session:  # a ticket reply to a resident of 平江
        b = await outbox.create_broadcast(session, category="ticket", scope=outbox.Scope.of_residents([pj_resident]),
                                          content=Content("您的投诉已办结：电话 138…"), created_by="system")
        bid = b.id
        resident = await session.get(Resident, pj_resident)
        resident.community_id, resident.estate_id = None, None  # the resident unbinds (or is erased)
    app = create_app(world.services.settings, services=world.services, routers=[], plugins=[broadcasts.console])
    tokens = {}
    async with world.services.db.transaction() as session:
        for staff in await session.scalars(select(Staff)):
            _, tokens[staff.username] = await staff_repo.create_api_token(session, staff.id, "t", world.services.clock())
    raw = await aiohttp_client(app)
    yijing, youyilu = _Authorized(raw, tokens["yijing"]), _Authorized(raw, tokens["youyilu"])
    assert (await yijing.get(f"/api/v1/broadcasts/{bid}")).status == 404  # 谊景 never could
    assert bid not in [x["id"] for x in (await (await yijing.get("/api/v1/broadcasts")).json())["broadcasts"]]
    assert (await youyilu.get(f"/api/v1/broadcasts/{bid}")).status == 200  # 平江's street still sees it


async def test_sending_to_residents_outside_the_jurisdiction_unbound_or_unknown_is_refused(world, aiohttp_client):
    [yj] = await world.seed(1, prefix="o_yj")
    [pj] = await world.seed(1, estate="HX-YYL-PJ-01", prefix="o_pj")
    app = create_app(world.services.settings, services=world.services, routers=[], plugins=[broadcasts.console])
    async with world.services.db.transaction() as session:
        staff = (await session.scalars(select(Staff).where(Staff.username == "yijing"))).one()
        _, token = await staff_repo.create_api_token(session, staff.id, "t", world.services.clock())
        from storage.models import Resident

        unbound = Resident(openid="o_unbound_1", subscribed=True)
        session.add(unbound)
        await session.flush()
        unbound_id = unbound.id
    client = _Authorized(await aiohttp_client(app), token)

    def send(ids):
        return client.post("/api/v1/broadcasts", json={"category": "notice", "scope": {"level": "all",
                           "residents": ids}, "content": {"text": "点此领取补贴 http://phish.example"}})

    for ids in ([pj], [unbound_id], [987654], [yj, pj]):
        resp = await send(ids)
        assert resp.status == 403, (ids, await resp.text())
    assert (await send([yj])).status == 201
    async with world.services.db.transaction() as session:
        from storage.delivery_models import Broadcast

        sent = list(await session.scalars(select(Broadcast)))
    assert len(sent) == 1 and sent[0].reach == [world.org["estates"]["HX-YYL-YJ-01"].community_id]
