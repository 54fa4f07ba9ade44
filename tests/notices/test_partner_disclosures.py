"""A property company drafts its own disclosures in the console (issue 18, handlers/notices/console_partner.py):
only for the estates it serves, submitted for review, approved and published by the community's staff exactly as
any draft (residents of the estate get it), never seen by another company, refused to every other account, audited,
and counted in the company's scorecard against the disclosure duties' due days. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.console.staff_service import create_account
from handlers.scorecards import service as scorecards
from handlers.scorecards.config import from_settings
from handlers.scorecards.periods import parse as parse_period
from storage.console_models import AuditEntry
from storage.delivery_models import Delivery
from storage.models import Estate, PropertyCompany, Resident
from storage.notice_models import Notice, NoticeVersion
from storage.repositories import deliveries
from storage.scorecard_models import DisclosureRule
from tests.console.conftest import NOW, PASSWORD, csrf_in
from tests.notices.test_console import CSV
from tests.support import test_password_hash as known_hash

BASE = "/console/partner/disclosures"


async def _setup(world) -> dict:
    async with world.services.db.transaction() as session:
        for username, code in (("jinan", "WY-JA"), ("haihe", "WY-HH"), ("jcdev", "KF-JC"), ("cgw", "dept:城管委")):
            staff = await create_account(session, username=username, display_name=f"{code} 客服", level="community",
                                         node=None, password=PASSWORD, partner=code)
            staff.password_hash = known_hash()
        estates = dict((await session.execute(select(Estate.code, Estate.id))).all())
        company = await session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == "WY-JA"))
        for code, due in (("HX-YYL-YJ-01", 25), ("HX-YYL-YJ-02", 10)):
            session.add(DisclosureRule(estate_id=estates[code], category="finance", frequency="monthly", due_day=due,
                                       effective_from=date(2026, 1, 1), created_by="staff:test"))
    return {"estates": estates, "company": company}


async def _login(world, username: str) -> str:
    """Log a partner account in (its home page, the WeChat link, is not mounted here); the session's CSRF token."""
    if username not in ("jinan", "haihe"):
        return await world.login(username) if username == "yijing" else await _bare_login(world, username)
    await _bare_login(world, username)
    return csrf_in(await (await world.client.get(BASE)).text())


async def _bare_login(world, username: str) -> str:
    client = world.client
    nonce = csrf_in(await (await client.get("/console/login")).text())
    resp = await client.post("/console/login", data={"username": username, "password": PASSWORD, "_csrf": nonce},
                             allow_redirects=False)
    assert resp.status == 303
    return ""


async def _draft(world, csrf: str, estate_ids: list[int], **extra):
    data = {"_csrf": csrf, "category": "finance", "title": "谊景花园11月收支公示", "body": "详见下表。",
            "estate": [str(i) for i in estate_ids], "table_title_0": "收支明细", "table_csv_0": CSV, **extra}
    return await world.client.post(BASE, data=data, allow_redirects=False)


async def test_a_company_drafts_submits_and_the_community_publishes(cworld):
    ids = await _setup(cworld)
    estates, client = ids["estates"], cworld.client
    resident = await cworld.add_resident("YJ")
    async with cworld.services.db.transaction() as session:
        (await session.get(type(resident), resident.id)).estate_id = estates["HX-YYL-YJ-01"]
    csrf = await _login(cworld, "jinan")
    assert f'href="{BASE}"' in await (await client.get(BASE)).text()  # 本单位公示 in a property company's menu
    page = await (await client.get(f"{BASE}/new?category=finance")).text()
    assert "谊景花园" in page and "友谊新城" in page and "梅江湾" in page and "谊安里" not in page
    # another company's estate, or none: refused with the form again, nothing stored
    refused = await _draft(cworld, csrf, [estates["HX-YYL-YJ-03"]])
    assert refused.status == 422 and "只能为本单位服务的小区起草公示" in await refused.text()
    assert (await _draft(cworld, csrf, [])).status == 422
    assert (await _draft(cworld, csrf, [estates["HX-YYL-YJ-01"]], category="committee")).status == 422
    resp = await _draft(cworld, csrf, [estates["HX-YYL-YJ-01"]])
    assert resp.status == 303
    nid = int(resp.headers["Location"].rsplit("/", 1)[1])
    async with cworld.services.db.transaction() as session:
        notice = await session.get(Notice, nid)
        assert (notice.state, notice.source, notice.author, notice.scope_level, notice.scope_ids) == (
            "draft", f"partner:property:{ids['company']}", "staff:jinan", "estate", [estates["HX-YYL-YJ-01"]])
        assert notice.publisher == "津安物业服务有限公司"
    assert "谊景花园11月收支公示" in await (await client.get(BASE)).text()
    preview = await (await client.get(f"{BASE}/{nid}/preview")).text()
    assert "12,000.00" in preview and "合计" in preview
    edited = await client.post(f"{BASE}/{nid}/edit", data={
        "_csrf": csrf, "title": "谊景花园11月收支公示（修订）", "body": "详见下表。",
        "estate": [str(estates["HX-YYL-YJ-01"])], "table_title_0": "收支明细", "table_csv_0": CSV},
        allow_redirects=False)
    assert edited.status == 303
    # the company cannot publish, nor reach the staff's notice pages
    for method, path in (("POST", f"/console/notices/{nid}/approve"), ("GET", f"/console/notices/{nid}"),
                         ("GET", "/console/notices")):
        resp = await client.request(method, path, data={"_csrf": csrf} if method == "POST" else None,
                                    allow_redirects=False)
        assert resp.status == 403
    detail = await (await client.post(f"{BASE}/{nid}/submit", data={"_csrf": csrf})).text()
    assert "已提交社区审核" in detail and "等待社区审核发布" in detail
    late_edit = await client.post(f"{BASE}/{nid}/edit", data={"_csrf": csrf, "title": "x", "estate": ["1"]})
    assert "已提交审核的公示不能再修改" in await late_edit.text()
    cworld.client.session.cookie_jar.clear()

    # another company sees nothing of it; a developer's, a department's or a staff account cannot open the pages
    csrf = await _login(cworld, "haihe")
    assert (await client.get(f"{BASE}/{nid}")).status == 404
    assert (await client.get(f"{BASE}/{nid}/preview")).status == 404
    assert (await client.post(f"{BASE}/{nid}/submit", data={"_csrf": csrf}, allow_redirects=False)).status == 404
    assert "谊景花园11月收支公示" not in await (await client.get(BASE)).text()
    cworld.client.session.cookie_jar.clear()
    for username in ("jcdev", "cgw", "yijing"):
        await _login(cworld, username)
        assert f'href="{BASE}"' not in await (await client.get("/console/account/password")).text(), username
        assert (await client.get(BASE)).status == 403, username
        assert (await client.get(f"{BASE}/{nid}")).status == 403, username
        cworld.client.session.cookie_jar.clear()

    # the community's staff review and publish it as any draft; the estate's residents get it
    csrf = await cworld.login("yijing")
    home = await (await client.get("/console/")).text()
    assert "待审核的公示" in home and "谊景花园11月收支公示（修订）" in home
    resp = await client.post(f"/console/notices/{nid}/approve", data={"_csrf": csrf, "publish_at": ""})
    assert "已发布" in await resp.text()
    async with cworld.services.db.transaction() as session:
        notice = await session.get(Notice, nid, populate_existing=True)
        assert notice.state == "published" and notice.approver == "staff:yijing"
        version = (await session.execute(select(NoticeVersion).where(NoticeVersion.notice_id == nid))).scalar_one()
        actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.username == "jinan")))
    assert {"notice.partner_create", "notice.partner_edit", "notice.partner_submit"} <= actions
    while True:
        async with cworld.services.db.transaction() as session:
            if not await deliveries.expand_step(session, version.broadcast_id, 1000):
                break
    async with cworld.services.db.transaction() as session:
        reached = set(await session.scalars(select(Delivery.resident_id).where(
            Delivery.broadcast_id == version.broadcast_id)))
    assert resident.id in reached and cworld.resident["PJ"] not in reached
    async with cworld.services.db.transaction() as session:
        estate_of = dict((await session.execute(select(Resident.id, Resident.estate_id).where(
            Resident.id.in_(reached)))).all())
    assert set(estate_of.values()) == {estates["HX-YYL-YJ-01"]}  # only the estate's residents
    await cworld.logout(csrf)
    csrf = await _login(cworld, "jinan")
    assert "已发布" in await (await client.get(f"{BASE}/{nid}")).text()

    # the scorecard: 谊景花园's duty (due the 25th) met by the company's own submission, 友谊新城's (due the 10th)
    # missing; the published notice also counts for the estate's disclosure as before
    async with cworld.services.db.transaction() as session:
        board = await scorecards.build(session, "property", parse_period("2026-11"), None,
                                       from_settings(cworld.services.settings), NOW)
    card = board.card(ids["company"])
    assert card.own_disclosure.as_dict() | {"on_time_rate": None} == {
        "due": 2, "on_time": 1, "late": 0, "missing": 1, "pending": 0, "on_time_rate": None}
    assert (card.overall.disclosure.on_time, card.overall.disclosure.missing) == (1, 1)
    other = board.card(await _company(cworld, "WY-HH"))
    assert other is None or other.own_disclosure.due == 0


async def _company(world, code: str) -> int:
    async with world.services.db.transaction() as session:
        return await session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == code))


async def test_bad_input_gets_a_clear_answer(cworld):
    ids = await _setup(cworld)
    csrf = await _login(cworld, "jinan")
    yj1 = str(ids["estates"]["HX-YYL-YJ-01"])
    for extra in ({"estate": ["abc"]}, {"estate": [yj1, "99999999999"]}, {"title": ""}, {"title": "长" * 200},
                  {"table_csv_0": "项目,金额（元）\n物业费,abc\n物业费,12\n物业费,13\n"}, {"category": ""}):
        resp = await _draft(cworld, csrf, [], **({"estate": [yj1]} | extra))
        assert resp.status == 422, extra
        assert "errors" in await resp.text()
    for path in (f"{BASE}/999999", f"{BASE}/999999/edit", f"{BASE}/abc", f"{BASE}/99999999999999999999/preview"):
        assert (await cworld.client.get(path)).status == 404, path
    async with cworld.services.db.transaction() as session:
        assert await session.scalar(select(Notice.id).where(Notice.source.like("partner:%"))) is None
