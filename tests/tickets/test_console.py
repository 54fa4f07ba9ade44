"""The staff side over HTTP: pages (list, detail, actions with CSRF, phone reveal audited), jurisdiction (404
outside, 403 for the wrong level), the JSON API against our OpenAPI fragment, stats CSV, dashboard panels."""
from __future__ import annotations

import csv
import io

import pytest
import yaml
from sqlalchemy import select

from handlers import broadcasts, tickets
from handlers.console import CONSOLE
from handlers.tickets import service
from handlers.tickets.console import HERE
from storage.console_models import AuditEntry
from storage.models import Resident
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket
from tests.console.conftest import build_world
from tests.console.test_api import check


@pytest.fixture
async def world(aiohttp_client, db_url, monkeypatch):
    return await build_world(aiohttp_client, db_url, plugins=[broadcasts.console, tickets.console])


async def file(world, short="YJ", text="3号楼电梯坏了一周，电话13812345678", category="repair") -> Ticket:
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident[short])
        return await service.file_ticket(session, world.services, resident,
                                         service.Filing(category, text, phone="13812345678"), world.clock())


async def status_of(world, ticket_id) -> str:
    async with world.services.db.transaction() as session:
        return (await repo.get(session, ticket_id)).status


async def test_pages_list_detail_and_actions(world):
    t = await file(world)
    csrf = await world.login("yijing")
    page = await (await world.client.get("/console/tickets")).text()
    assert t.number in page and "13812345678" not in page and "138****5678" in page
    detail = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert "签收" in detail and "13812345678" not in detail
    resp = await world.client.post(f"/console/tickets/{t.id}/actions/sign", data={"_csrf": csrf},
                                   allow_redirects=False)
    assert resp.status == 303 and await status_of(world, t.id) == "assigned"
    resp = await world.client.post(f"/console/tickets/{t.id}/actions/resolve", data={"_csrf": csrf, "text": ""},
                                   allow_redirects=True)
    assert "请填写办理结果" in await resp.text() and await status_of(world, t.id) == "assigned"
    canned = "已通知物业服务企业安排维修人员上门查看，维修完成后请您确认。"
    await world.client.post(f"/console/tickets/{t.id}/actions/reply", data={"_csrf": csrf, "canned": canned})
    revealed = await (await world.client.post(f"/console/tickets/{t.id}/phone", data={"_csrf": csrf})).text()
    assert "13812345678" in revealed
    async with world.services.db.transaction() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
        events = await repo.events(session, t.id)
    assert "ticket.sign" in actions and "ticket.phone" in actions and "ticket.reply" in actions
    assert events[-1].text == canned
    no_csrf = await world.client.post(f"/console/tickets/{t.id}/actions/note", data={"text": "x"})
    assert no_csrf.status == 403


async def test_jurisdiction_and_level(world):
    t = await file(world)
    await world.login("pingjiang")  # another community
    assert (await world.client.get(f"/console/tickets/{t.id}")).status == 404
    assert t.number not in await (await world.client.get("/console/tickets")).text()
    world.client.session.cookie_jar.clear()
    csrf = await world.login("youyilu")  # the street above sees it but does not sign community tickets
    assert (await world.client.get(f"/console/tickets/{t.id}")).status == 200
    resp = await world.client.post(f"/console/tickets/{t.id}/actions/sign", data={"_csrf": csrf})
    assert resp.status == 403 and await status_of(world, t.id) == "received"
    headers = world.bearer("nankai")
    assert (await world.client.get(f"/api/v1/tickets/{t.id}", headers=headers)).status == 404


async def test_api_matches_the_openapi_fragment(world):
    t = await file(world)
    other = await file(world, text="东门电梯坏了一周没修")
    doc = await (await world.client.get("/api/v1/openapi.json")).json()
    fragment = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    mounted = {(r.method, r.path) for r in world.client.server.app[CONSOLE].registry.api_routes
               if r.path.startswith(("/tickets", "/partner/tickets"))}
    assert mounted == {(m.upper(), p) for p, ops in fragment["paths"].items() for m in ops}
    h = world.bearer("yijing")
    calls = [("GET", "/tickets", None, 200), ("GET", "/tickets/stats?since=2026-11-01&until=2026-11-30", None, 200),
             ("GET", f"/tickets/{t.id}", None, 200),
             ("POST", f"/tickets/{t.id}/actions/sign", {}, 200),
             ("POST", f"/tickets/{t.id}/actions/sign", {}, 409),
             ("POST", f"/tickets/{t.id}/actions/resolve", {"text": ""}, 422),
             ("POST", f"/tickets/{t.id}/actions/assign", {"partner": "property"}, 200),
             ("POST", f"/tickets/{other.id}/actions/link", {"primary": t.number}, 200),
             ("POST", f"/tickets/{t.id}/actions/resolve", {"text": "已修复"}, 200),
             ("GET", "/tickets/999999", None, 404), ("GET", "/tickets/stats?since=yesterday", None, 400),
             ("POST", f"/tickets/{t.id}/public-summary", {"summary": "电梯故障，已报修"}, 200),
             ("POST", f"/tickets/{t.id}/public-summary", {"summary": "3号楼王先生家电梯"}, 422),
             ("POST", f"/tickets/{t.id}/public-summary", {"summary": 5}, 400),
             ("POST", "/tickets/999999/public-summary", {"summary": "x"}, 404)]
    problems = []
    for method, url, body, expected in calls:
        resp = await (world.client.get("/api/v1" + url, headers=h) if method == "GET"
                      else world.client.post("/api/v1" + url, json=body, headers=h))
        path = next(p for p in fragment["paths"] if _matches(p, url.split("?")[0]))
        op = doc["paths"][path][method.lower()]
        if resp.status != expected or str(resp.status) not in op["responses"]:
            problems.append((method, url, resp.status, await resp.text()))
            continue
        schema = op["responses"][str(resp.status)]
        schema = schema if "content" in schema else doc["components"]["responses"][schema["$ref"].split("/")[-1]]
        problems += check(doc, schema["content"]["application/json"]["schema"], await resp.json())
    assert not problems
    body = await (await world.client.get(f"/api/v1/tickets/{t.id}", headers=h)).json()
    assert body["status"] == "resolved" and body["linked"] == [other.number]
    assert body["assignee"] == "津安物业服务有限公司" and "13812345678" not in str(body)


def _matches(template: str, url: str) -> bool:
    a, b = template.strip("/").split("/"), url.strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b)) and \
        not (template.endswith("{ticket_id}") and b[-1] == "stats")


async def test_public_summary_needs_staff_of_the_level_or_above_and_is_audited(world):
    t = await file(world)
    url = f"/api/v1/tickets/{t.id}/public-summary"
    assert (await world.client.post(url, json={"summary": "x"}, headers=world.bearer("pingjiang"))).status == 404
    ok = await world.client.post(url, json={"summary": "电梯故障，已报修"}, headers=world.bearer("yijing"))
    body = await ok.json()
    assert ok.status == 200 and body["ticket"]["public_summary"] == "电梯故障，已报修"
    assert body["ticket"]["public_summary_by"] == "staff:yijing"
    refused = await world.client.post(url, json={"summary": "联系13812345678"}, headers=world.bearer("yijing"))
    assert refused.status == 422 and "个人信息" in (await refused.json())["message"]
    csrf = await world.login("youyilu")  # the street above may approve too (console form), or withdraw
    no_csrf = await world.client.post(f"/console/tickets/{t.id}/public-summary", data={"summary": ""})
    assert no_csrf.status == 403
    resp = await world.client.post(f"/console/tickets/{t.id}/public-summary", data={"_csrf": csrf, "summary": ""},
                                   allow_redirects=False)
    assert resp.status == 303
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert "公开摘要" in page and "已撤回公开摘要" in page
    async with world.services.db.transaction() as session:
        ticket = await repo.get(session, t.id)
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
        await service.perform(session, world.services, ticket, "escalate", service.staff_actor(
            await session.get(__import__("storage.models", fromlist=["Staff"]).Staff, world.staff["yijing"]),
            None), world.clock(), reason="需要街道协调")
    assert ticket.public_summary is None and actions.count("ticket.public_summary") == 2
    above = await world.client.post(url, json={"summary": "电梯故障"}, headers=world.bearer("yijing"))
    assert above.status == 403  # now at the street: the community no longer decides what is published


@pytest.mark.parametrize("who, expected", [("yijing", 200), ("youyilu", 200), ("hexi", 200), ("admin", 200),
                                           ("pingjiang", 404), ("nankai", 404), (None, 401)])
async def test_public_summary_authorization_matrix(world, who, expected):
    """Every level inside the jurisdiction may approve a community ticket's summary; outside (another community,
    another district) the ticket does not exist; without a token nothing happens. A refusal changes nothing."""
    t = await file(world)
    resp = await world.client.post(f"/api/v1/tickets/{t.id}/public-summary", json={"summary": "电梯故障，已报修"},
                                   headers=world.bearer(who) if who else {})
    assert resp.status == expected
    async with world.services.db.transaction() as session:
        summary = (await repo.get(session, t.id)).public_summary
    assert summary == ("电梯故障，已报修" if expected == 200 else None)


async def test_a_ticket_whose_resident_erased_their_data_says_so(world):
    from handlers.privacy.erasure import erase_resident

    t = await file(world)
    async with world.services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, world.resident["YJ"]), world.clock())
    body = await (await world.client.get(f"/api/v1/tickets/{t.id}", headers=world.bearer("yijing"))).json()
    assert body["resident_reachable"] is False and body["resident_erased_at"] and body["phone_masked"] is None
    assert body["events"][-1]["kind"] == "erased" and "无法再联系居民" in body["events"][-1]["text"]
    assert "电梯" not in body["description"] and "ask" not in body["allowed_actions"]
    listing = await (await world.client.get("/api/v1/tickets", headers=world.bearer("yijing"))).json()
    assert listing["tickets"][0]["resident_reachable"] is False
    await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert "居民已删除个人信息，无法联系" in page and "显示完整号码" not in page


async def test_stats_csv_and_dashboard_panels(world):
    t = await file(world)
    await world.login("yijing")
    resp = await world.client.get("/console/tickets/stats?since=2026-11-01&until=2026-11-30&format=csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["维度", "名称", "受理量"] and rows[1][:3] == ["合计", "全部", "1"]
    page = await (await world.client.get("/console/tickets/stats")).text()
    assert "不出社区率" in page and "满意率" in page
    home = await (await world.client.get("/console/")).text()
    assert "在办投诉" in home and "本月投诉三率" in home
    assert t.number


def _open_counts(home: str) -> int:
    """Open tickets at community level in the dashboard's 在办投诉 panel (sum of its four columns)."""
    import re

    row = re.search(r'level=community">[^<]*</a></td>(.*?)</tr>', home, re.S)
    assert row is not None, "the 在办投诉 panel is missing"
    return sum(int(n) for n in re.findall(r">(\d+)<", row.group(1)))


async def test_dashboard_ticket_panels_count_each_jurisdiction_once(world, aiohttp_client):
    """The panels read the organisation's tickets once and each viewer keeps their own communities."""
    for short in ("YJ", "YJ", "PJ", "LS", "XY"):
        await file(world, short)
    expected = {"yijing": 2, "youyilu": 3, "hexi": 4, "admin": 5}
    for username, count in expected.items():
        client = await aiohttp_client(world.client.server.app) if username != "yijing" else world.client
        await world.login(username, client=client)
        home = await (await client.get("/console/")).text()
        assert _open_counts(home) == count, username
        assert "本月投诉三率" in home


async def test_open_tickets_are_classed_by_their_deadline(world):
    """The 在办投诉 panel's classes: the sign-by time counts while a ticket is unsigned (if it comes before the
    resolve-by time), then the resolve-by time; tickets waiting for the resident are their own class."""
    from datetime import timedelta

    from sqlalchemy import update

    from handlers.tickets.console import _open_counts

    now = world.clock()
    hour, day = timedelta(hours=1), timedelta(days=1)
    cases = {  # signed_at, sign_due_at, resolve_due_at, waiting_since → expected class
        "overdue": [(None, now - hour, now + 10 * day, None), (now - day, now - 2 * day, now - hour, None),
                    (None, now + 20 * day, now - hour, None)],
        "soon": [(None, now + timedelta(minutes=5), now + 10 * day, None)],
        "later": [(now - hour, now - 2 * hour, now + 30 * day, None), (None, now + 30 * day, now + 40 * day, None)],
        "waiting": [(now - hour, now - 2 * hour, now - day, now - hour)],
    }
    for rows in cases.values():
        for signed, sign_due, resolve_due, waiting in rows:
            t = await file(world)
            async with world.services.db.transaction() as session:
                await session.execute(update(Ticket).where(Ticket.id == t.id).values(
                    signed_at=signed, sign_due_at=sign_due, resolve_due_at=resolve_due, waiting_since=waiting))
    async with world.services.db.reading() as session:
        got = {(level, key): n for _, level, key, n in (await session.execute(_open_counts(now))).all()}
    assert got == {("community", key): len(rows) for key, rows in cases.items()}


def _primary(page: str) -> str:
    """The action of the one form inside the page's next-step card ('' when there is none)."""
    card = page.split('id="next-step"', 1)[1].split("</div>", 1)[0]
    return card.split('data-action="', 1)[1].split('"', 1)[0] if 'data-action="' in card else ""


async def test_the_ticket_page_offers_the_next_step_as_one_button_and_the_rest_under_more(world):
    t = await file(world)
    csrf = await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert _primary(page) == "sign" and '<details class="card more"' in page
    more = page.split('id="more-actions"', 1)[1]
    assert 'data-action="reject"' in more and 'data-action="sign"' not in more
    await world.client.post(f"/console/tickets/{t.id}/actions/sign", data={"_csrf": csrf})
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert _primary(page) == "reply" and 'data-action="assign"' in page.split('id="more-actions"', 1)[1]
    await world.client.post(f"/console/tickets/{t.id}/actions/reply", data={"_csrf": csrf, "text": "已联系物业"})
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert _primary(page) == "resolve"
    resolve_form = page.split('data-action="resolve"', 1)[1].split("</form>", 1)[0]
    assert "维修人员已上门完成维修" in resolve_form  # the resolution templates, not the replies
    assert "已通知物业服务企业安排维修人员上门查看" not in resolve_form
    await world.client.post(f"/console/tickets/{t.id}/actions/resolve",
                            data={"_csrf": csrf, "canned": "维修人员已上门完成维修，经现场查看已恢复正常使用。"})
    assert await status_of(world, t.id) == "resolved"
    page = await (await world.client.get(f"/console/tickets/{t.id}")).text()
    assert _primary(page) == "" and "等待居民评价" in page
    world.client.session.cookie_jar.clear()
    await world.login("youyilu")  # the street supervises: no primary step, chase/note under 更多操作
    t2 = await file(world, text="楼道灯坏了")
    page = await (await world.client.get(f"/console/tickets/{t2.id}")).text()
    assert _primary(page) == "" and 'data-action="chase"' in page


def _numbers(page: str) -> list[str]:
    import re

    return re.findall(r'<td class="number" data-label="编号"><a href="/console/tickets/\d+">([^<]+)</a>', page)


async def test_list_sorts_by_column_keeps_filters_in_links_and_has_my_and_due_views(world):
    from datetime import timedelta

    first = await file(world, text="3号楼电梯坏了")
    second = await file(world, text="楼道灯不亮", category="property")
    third = await file(world, text="垃圾没人清运", category="environment")
    async with world.services.db.transaction() as session:
        late = await repo.get(session, third.id)
        late.sign_due_at = late.resolve_due_at = world.clock() - timedelta(hours=1)  # overdue
        soon = await repo.get(session, second.id)
        soon.sign_due_at = world.clock() + timedelta(hours=2)  # due within one working day
        later = await repo.get(session, first.id)
        later.sign_due_at = world.clock() + timedelta(days=6)  # well after one working day
    csrf = await world.login("yijing")
    page = await (await world.client.get("/console/tickets")).text()
    assert _numbers(page) == [third.number, second.number, first.number]  # newest first
    page = await (await world.client.get("/console/tickets?sort=number&category=")).text()
    assert _numbers(page) == [first.number, second.number, third.number]
    assert 'aria-sort="ascending"' in page
    page = await (await world.client.get("/console/tickets?category=repair&sort=number")).text()
    assert _numbers(page) == [first.number]
    assert 'href="/console/tickets?status=open&amp;category=repair&amp;sort=-category"' in page  # filters kept
    assert '<tr class="overdue">' not in page
    page = await (await world.client.get("/console/tickets?view=due")).text()
    assert set(_numbers(page)) == {second.number, third.number}
    assert '<tr class="overdue">' in page and '<tr class="soon">' in page
    await world.client.post(f"/console/tickets/{first.id}/actions/sign", data={"_csrf": csrf})
    mine = await (await world.client.get("/console/tickets?view=mine")).text()
    assert set(_numbers(mine)) == {first.number, second.number, third.number}  # signed by me + unsigned
    world.client.session.cookie_jar.clear()
    await world.login("youyilu")  # the street has no community-level work of its own
    assert _numbers(await (await world.client.get("/console/tickets?view=mine")).text()) == []


async def test_bulk_sign_and_assign_follow_the_ticket_rules(world):
    a, b = await file(world, text="电梯坏了"), await file(world, text="水管漏水")
    other = await file(world, short="PJ", text="平江的工单")
    csrf = await world.login("yijing")
    resp = await world.client.post("/console/tickets/bulk", data=[
        ("_csrf", csrf), ("action", "sign"), ("ids", str(a.id)), ("ids", str(b.id)), ("ids", str(other.id)),
        ("back", "/console/tickets?category=repair")], allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/tickets?category=repair"
    page = await (await world.client.get("/console/tickets")).text()
    assert "已签收 2 件" in page and "不在您的辖区内" in page
    assert await status_of(world, a.id) == "assigned" and await status_of(world, b.id) == "assigned"
    assert await status_of(world, other.id) == "received"
    again = await world.client.post("/console/tickets/bulk", data=[("_csrf", csrf), ("action", "sign"),
                                                                   ("ids", str(a.id))])
    assert "未能签收" in await again.text()  # already signed: the rule's reason is shown
    resp = await world.client.post("/console/tickets/bulk", data=[
        ("_csrf", csrf), ("action", "assign"), ("partner", "property"), ("ids", str(a.id)), ("ids", str(b.id))])
    assert "已交办 2 件" in await resp.text()
    async with world.services.db.transaction() as session:
        assert (await repo.get(session, a.id)).assignee_partner.startswith("property")
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert actions.count("ticket.sign") == 2 and actions.count("ticket.assign") == 2
    nothing = await world.client.post("/console/tickets/bulk", data={"_csrf": csrf, "action": "sign"})
    assert "请先勾选工单" in await nothing.text()
    no_csrf = await world.client.post("/console/tickets/bulk", data={"action": "sign", "ids": str(a.id)})
    assert no_csrf.status == 403


async def test_the_open_tickets_panel_shows_a_level_and_the_levels_below_it(world, aiohttp_client):
    await file(world)
    seen = {}
    for username in ("yijing", "youyilu", "hexi"):
        client = await aiohttp_client(world.client.server.app)
        await world.login(username, client=client)
        home = await (await client.get("/console/")).text()
        panel = home.split("在办投诉：按层级和期限", 1)[1].split("</table>", 1)[0]
        seen[username] = [level for level in ("community", "street", "district")
                          if f'status=open&amp;level={level}"' in panel]
    assert seen == {"yijing": ["community"], "youyilu": ["community", "street"],
                    "hexi": ["community", "street", "district"]}
