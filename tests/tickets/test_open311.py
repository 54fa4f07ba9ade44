"""The read-only Open311 GeoReport v2 export: the documented fields, filters, and no personal data."""
from __future__ import annotations

from datetime import timedelta

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
    await act(services, done_id, "reject", "admin", reason="已由城管部门处理")
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
    assert "13812345678" not in str(rows) and "138****5678" in first["description"]
    assert first["address"] == "河西区友谊路街道谊景社区谊景花园"
    second = by_id["JF20261126-0002"]
    assert second["status"] == "closed" and second["expected_datetime"] is None and "不予受理" in second["status_notes"]
    assert [r["service_request_id"] for r in await (await client.get(
        "/open311/v2/requests.json?status=open")).json()] == ["JF20261126-0001"]
    assert len(await (await client.get("/open311/v2/requests.json?jurisdiction_id=HX-MJ")).json()) == 1
    assert len(await (await client.get("/open311/v2/requests.json?service_code=parking")).json()) == 0
    one = await client.get("/open311/v2/requests/JF20261126-0002.json")
    assert one.status == 200 and (await one.json())[0]["service_request_id"] == "JF20261126-0002"
    assert (await client.get("/open311/v2/requests/JF20000101-0001.json")).status == 404
    assert open_id


async def test_bad_dates_and_key(aiohttp_client, services):
    client = await client_for(aiohttp_client, services)
    span = (await client.get("/open311/v2/requests.json", params={
        "start_date": (NOW - timedelta(days=200)).isoformat(), "end_date": NOW.isoformat()}))
    assert span.status == 400 and "90" in (await span.json())[0]["description"]
    assert (await client.get("/open311/v2/requests.json?start_date=yesterday")).status == 400
    services.settings = services.settings.with_env({"LINLI_OPEN311_KEY": "k-123"})
    assert (await client.get("/open311/v2/requests.json")).status == 403
    assert (await client.get("/open311/v2/requests.json?api_key=k-123")).status == 200
    services_list = await (await client.get("/open311/v2/services.json?api_key=k-123")).json()
    assert {s["service_code"] for s in services_list} >= {"repair", "fees", "committee"}
