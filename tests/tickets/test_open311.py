"""The read-only Open311 GeoReport v2 export: the documented fields, filters, no text a resident typed (only a
summary staff approved), no estate in the address, every query parameter validated, the optional key."""
from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web

from handlers.tickets import setup_routes
from tests.tickets.conftest import NOW
from tests.tickets.test_service import act, new_ticket

FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
          "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
          "address", "zipcode"}


async def client_for(aiohttp_client, services):
    app = web.Application()
    setup_routes(app, services)
    return await aiohttp_client(app)


async def test_requests_json(aiohttp_client, services):
    open_id = await new_ticket(services, "o_311a", text="3号楼电梯坏了，联系我13812345678", phone="13812345678")
    done_id = await new_ticket(services, "o_311b", community="HX-MJ-LS", text="小区垃圾清运不及时",
                               category="environment")
    await act(services, done_id, "reject", "admin", reason="已由城管部门处理，已电话告知王先生13812345678")
    client = await client_for(aiohttp_client, services)
    resp = await client.get("/open311/v2/requests.json")
    assert resp.status == 200
    rows = await resp.json()
    assert len(rows) == 2 and all(set(r) == FIELDS for r in rows)
    by_id = {r["service_request_id"]: r for r in rows}
    first = by_id["JF20261126-0001"]
    assert first["status"] == "open" and first["service_code"] == "repair" and first["service_name"] == "维修"
    assert first["agency_responsible"] == "谊景社区" and first["requested_datetime"] == "2026-11-26T10:00:00+08:00"
    assert first["expected_datetime"] == "2026-12-07T10:00:00+08:00"
    assert "13812345678" not in str(rows) and "5678" not in str(rows) and "3号楼" not in str(rows)
    assert first["description"] == "维修类诉求（内容未公开）"  # nothing the resident typed
    assert first["address"] == "河西区友谊路街道谊景社区"  # the community, never the estate
    assert "谊景花园" not in str(rows)
    second = by_id["JF20261126-0002"]
    assert second["status"] == "closed" and second["expected_datetime"] is None and "不予受理" in second["status_notes"]
    assert "已由城管部门处理" in second["status_notes"] and "王先生" not in second["status_notes"]
    assert [r["service_request_id"] for r in await (await client.get(
        "/open311/v2/requests.json?status=open")).json()] == ["JF20261126-0001"]
    assert len(await (await client.get("/open311/v2/requests.json?jurisdiction_id=HX-MJ")).json()) == 1
    assert len(await (await client.get("/open311/v2/requests.json?service_code=parking")).json()) == 0
    one = await client.get("/open311/v2/requests/JF20261126-0002.json")
    assert one.status == 200 and (await one.json())[0]["service_request_id"] == "JF20261126-0002"
    assert (await client.get("/open311/v2/requests/JF20000101-0001.json")).status == 404
    assert open_id


async def test_only_an_approved_summary_is_published(aiohttp_client, services):
    from handlers.tickets import publication
    from handlers.tickets.operations import TicketError
    from storage.repositories import tickets as repo
    from tests.tickets.conftest import staff_actor

    tid = await new_ticket(services, "o_311c", text="我是3号楼2单元501的王先生，电话13812345678，楼道灯坏了")
    client = await client_for(aiohttp_client, services)
    [row] = await (await client.get("/open311/v2/requests.json")).json()
    assert row["description"] == "维修类诉求（内容未公开）"
    async with services.db.transaction() as session:
        ticket, actor = await repo.get(session, tid), await staff_actor(session, "yijing")
        with pytest.raises(TicketError, match="个人信息"):
            await publication.set_summary(session, ticket, "3号楼2单元501楼道灯坏了", actor, NOW)
        await publication.set_summary(session, ticket, "楼道照明灯损坏，已安排维修", actor, NOW)
    [row] = await (await client.get("/open311/v2/requests.json")).json()
    assert row["description"] == "楼道照明灯损坏，已安排维修"
    async with services.db.transaction() as session:
        await publication.set_summary(session, await repo.get(session, tid), "", actor, NOW)
    [row] = await (await client.get("/open311/v2/requests.json")).json()
    assert row["description"] == "维修类诉求（内容未公开）"


BAD_QUERIES = [
    ("end_date=0001-01-01", "2000"), ("start_date=0001-01-01", "2000"), ("end_date=9999-12-31T23:59:59-23:59", "2000"),
    ("start_date=yesterday", "ISO 8601"), ("end_date=2026-13-40", "ISO 8601"),
    (f"start_date={(NOW - timedelta(days=200)).date()}&end_date={NOW.date()}", "90"),
    ("status=pending", "status"), ("status=open&status=closed", "只能出现一次"),
    ("service_code=repair,nosuch", "service_code"), ("service_code=%00", "service_code"),
    ("service_request_id=1;DROP", "service_request_id"),
    ("service_request_id=" + ",".join(f"JF20261126-{n:04d}" for n in range(101)), "最多"),
    ("jurisdiction_id=" + "X" * 40, "jurisdiction_id"), ("jurisdiction_id=HX%00", "jurisdiction_id"),
    ("page=2", "不支持的参数"), ("lat=39.1&long=117.2", "不支持的参数"),
]


@pytest.mark.parametrize("query, said", BAD_QUERIES)
async def test_every_query_parameter_is_validated(aiohttp_client, services, query, said):
    client = await client_for(aiohttp_client, services)
    resp = await client.get(f"/open311/v2/requests.json?{query}")
    assert resp.status == 400, await resp.text()
    assert said in (await resp.json())[0]["description"]


async def test_good_queries_and_paths(aiohttp_client, services):
    await new_ticket(services, "o_311d")
    client = await client_for(aiohttp_client, services)
    for query in ("", "status=closed", "service_code=repair,fees", "jurisdiction_id=hx-yyl-yj",
                  "service_request_id=jf20261126-0001", f"start_date={NOW.date()}", "end_date=2026-11-26T18:00:00Z"):
        assert (await client.get(f"/open311/v2/requests.json?{query}")).status == 200, query
    assert (await client.get("/open311/v2/requests/JF20261126-0001.json")).status == 200
    assert (await client.get("/open311/v2/requests/%00.json")).status == 404
    assert (await client.get("/open311/v2/requests/" + "9" * 400 + ".json")).status == 404
    assert (await client.get("/open311/v2/services.json?foo=1")).status == 400


async def test_the_key_gates_the_export_when_set(aiohttp_client, services):
    client = await client_for(aiohttp_client, services)
    key = "k-123-open311-secret"
    services.settings = services.settings.with_(open311_key=key)
    for path in ("/open311/v2/requests.json", "/open311/v2/services.json", "/open311/v2/requests/JF20261126-0001.json"):
        denied = await client.get(path)
        assert denied.status == 401 and "api_key" in (await denied.json())[0]["description"]
        assert (await client.get(path, params={"api_key": "wrong-key-wrong-key"})).status == 401
    assert (await client.get("/open311/v2/requests.json", params={"api_key": key})).status == 200
    assert (await client.get("/open311/v2/requests.json", headers={"X-Api-Key": key})).status == 200
    services_list = await (await client.get("/open311/v2/services.json", params={"api_key": key})).json()
    assert {s["service_code"] for s in services_list} >= {"repair", "fees", "committee"}


def test_the_key_is_a_typed_setting():
    from bot.settings import SettingsError, parse

    assert parse({"LINLI_OPEN311_KEY": "k-123-open311-secret"}).open311_key == "k-123-open311-secret"
    with pytest.raises(SettingsError, match="LINLI_OPEN311_KEY"):
        parse({"LINLI_OPEN311_KEY": "short"})
