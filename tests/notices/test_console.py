"""Staff console: compose → approve (four-eyes) → correct → withdraw through the pages; CSV import; meeting pages;
the dashboard panel; jurisdiction refusals; the JSON API checked against this feature's OpenAPI fragment."""
from __future__ import annotations

import re

import aiohttp
import yaml
from sqlalchemy import select

from handlers.console.state import CONSOLE
from handlers.notices.console import HERE
from storage.notice_models import Notice
from tests.console.test_api import check, resolve

CSV = "项目,收入（元）,支出（元）\n物业费,12000,\n电梯维修,,8000.5\n"


async def _notice_id(world) -> int:
    async with world.services.db.transaction() as session:
        return await session.scalar(select(Notice.id).order_by(Notice.id.desc()).limit(1))


async def compose(world, csrf: str, scope: str, **extra) -> aiohttp.ClientResponse:
    data = {"_csrf": csrf, "category": "finance", "title": "10月收支公示", "body": "## 10月收支\n详见下表。",
            "scope": scope, "roles": "", "publisher": "", "publish_at": "", "table_title_0": "收支明细",
            "table_csv_0": CSV, **extra}
    return await world.client.post("/console/notices", data=data, allow_redirects=False)


async def test_compose_approve_correct_withdraw_through_pages(cworld):
    client = cworld.client
    csrf = await cworld.login("yijing")
    form = await client.get("/console/notices/new")
    html = await form.text()
    assert form.status == 200 and "谊景社区" in html and "平江社区" not in html and 'value="all"' not in html
    resp = await compose(cworld, csrf, f"community:{cworld.community['YJ']}")
    assert resp.status == 303
    nid = await _notice_id(cworld)
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "不能审核自己撰写的内容" in detail and "9,200.50" not in detail  # no approve button for the author
    preview = await client.get(f"/console/notices/{nid}/preview")
    assert preview.status == 200 and "12,000.00" in await preview.text() and "合计" in await preview.text()
    await cworld.logout(csrf)
    csrf = await cworld.login("youyilu")
    resp = await client.post(f"/console/notices/{nid}/approve", data={"_csrf": csrf, "publish_at": ""},
                             allow_redirects=False)
    assert resp.status == 303
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "已审核" in detail and "已发布" in detail and "已送达 0" in detail  # figures of the broadcast
    link = re.search(r'href="(http://linli\.example\.cn/n/[^"]+)"', detail).group(1)
    public = await client.get(link.replace("http://linli.example.cn", ""))
    assert public.status == 200 and "10月收支公示" in await public.text()
    form = await client.get(f"/console/notices/{nid}/correct")
    assert "电梯维修,,8000.50" in await form.text()
    resp = await client.post(f"/console/notices/{nid}/correct", data={
        "_csrf": csrf, "note": "电梯维修支出应为 800.50 元", "title": "10月收支公示", "body": "详见下表。",
        "table_title_0": "收支明细", "table_csv_0": CSV.replace("8000.5", "800.5")}, allow_redirects=False)
    assert resp.status == 303
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "待审核的更正" in detail and "等待另一位工作人员审核" in detail and "审核发布更正</button>" not in detail
    await cworld.logout(csrf)
    csrf = await cworld.login("hexi")  # the second person approves the correction
    resp = await client.post(f"/console/notices/{nid}/correction/approve", data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "第2版" in detail and "电梯维修支出应为 800.50 元" in detail and "友谊路街道演示账号 / 河西区演示账号" in detail and "staff:" not in detail
    resp = await client.post(f"/console/notices/{nid}/withdraw", data={"_csrf": csrf, "reason": ""},
                             allow_redirects=False)
    assert resp.status == 303 and "请填写撤回原因" in await (await client.get(f"/console/notices/{nid}")).text()
    await client.post(f"/console/notices/{nid}/withdraw", data={"_csrf": csrf, "reason": "重新核对"})
    assert "已撤回" in await (await client.get("/console/notices?state=withdrawn")).text()


async def test_pages_refuse_other_jurisdictions(cworld):
    client = cworld.client
    csrf = await cworld.login("yijing")
    resp = await compose(cworld, csrf, f"community:{cworld.community['PJ']}")
    assert resp.status == 403
    resp = await compose(cworld, csrf, f"street:{1}")
    assert resp.status == 403
    resp = await compose(cworld, csrf, "all")
    assert resp.status == 403
    async with cworld.services.db.transaction() as session:
        assert await session.scalar(select(Notice.id)) is None  # refused writes changed nothing
    await compose(cworld, csrf, f"community:{cworld.community['YJ']}")
    nid = await _notice_id(cworld)
    await cworld.logout(csrf)
    csrf = await cworld.login("pingjiang")
    assert (await client.get(f"/console/notices/{nid}")).status == 404
    resp = await client.post(f"/console/notices/{nid}/approve", data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 404
    assert "10月收支公示" not in await (await client.get("/console/notices")).text()
    bad = await compose(cworld, csrf, f"community:{cworld.community['PJ']}", table_csv_0="项目,金额（元）\n物业费,100\n车位费,abc\n")
    assert bad.status == 422 and "第3行" in await bad.text()


async def test_csv_import_on_a_draft(cworld):
    client = cworld.client
    csrf = await cworld.login("yijing")
    await compose(cworld, csrf, "estate:1", table_csv_0="")
    nid = await _notice_id(cworld)
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("title", "车位费")
    form.add_field("file", CSV.encode("gbk"), filename="收支.csv", content_type="text/csv")
    resp = await client.post(f"/console/notices/{nid}/tables", data=form, allow_redirects=False)
    assert resp.status == 303
    preview = await (await client.get(f"/console/notices/{nid}/preview")).text()
    assert "车位费" in preview and "8,000.50" in preview
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("file", "项目,金额（元）\n物业费,12,多余\n".encode(), filename="x.csv", content_type="text/csv")
    page = await (await client.post(f"/console/notices/{nid}/tables", data=form)).text()
    assert "导入失败" in page and "第2行有 3 列" in page


async def test_meeting_pages_and_dashboard_panel(cworld):
    client = cworld.client
    csrf = await cworld.login("yijing")
    home = await (await client.get("/console/")).text()
    assert "本月联席会议" in home and "谊景社区" in home
    resp = await client.post("/console/meetings", data={
        "_csrf": csrf, "community": str(cworld.community["YJ"]), "held_on": "2026-11-12", "chair": "王丽",
        "location": "议事厅", "attendees": "居委会 王丽 谊景社区居委会\n居民代表 赵敏\n物业服务企业 李强 津安物业"},
        allow_redirects=False)
    assert resp.status == 303
    mid = int(resp.headers["Location"].rsplit("/", 1)[1])
    await client.post(f"/console/meetings/{mid}/items", data={
        "_csrf": csrf, "topic": "小区停车秩序", "discussion": "夜间乱停", "decision": "划线并公示车位",
        "concerns_residents": "1", "followup_owner": "物业", "followup_due": "2026-11-30"})
    resp = await client.post(f"/console/meetings/{mid}/publish", data={"_csrf": csrf})
    assert "请先结束会议" in await resp.text()
    await client.post(f"/console/meetings/{mid}/close", data={"_csrf": csrf, "minutes": "记录", "attendee_count": ""})
    resp = await client.post(f"/console/meetings/{mid}/publish", data={"_csrf": csrf})
    assert "会议纪要已公开" in await resp.text()
    listing = await (await client.get("/console/meetings")).text()
    assert "纪要已公开" in listing and "谊景社区" in listing
    await cworld.logout(csrf)
    await cworld.login("pingjiang")
    assert (await client.get(f"/console/meetings/{mid}")).status == 404


async def test_api_matches_the_openapi_fragment(cworld):
    client = cworld.client
    doc = await (await client.get("/api/v1/openapi.json")).json()
    own = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in own["paths"].items() for m in ops}
    mounted = {(r.method, r.path) for r in client.server.app[CONSOLE].registry.api_routes
               if r.path.startswith(("/notices", "/meetings"))}
    assert mounted == documented
    problems, seen = [], set()

    async def call(method, path, who, body=None, expect=200, data=None, query="", **params):
        url = "/api/v1" + path.format(**params) + query
        resp = await client.request(method, url, json=body, data=data, headers=cworld.bearer(who))
        text = await resp.text()
        assert resp.status == expect, (method, url, resp.status, text)
        response = resolve(doc, doc["paths"][path][method.lower()]["responses"][str(expect)])
        schema = response["content"]["application/json"]
        problems.extend((method, path, p) for p in check(doc, schema["schema"], await resp.json()))
        seen.add((method, path))
        return await resp.json()

    yj = cworld.community["YJ"]
    draft = {"category": "finance", "title": "收支公示", "body": "正文", "scope": {"level": "community", "ids": [yj]},
             "tables": [{"columns": ["项目", "金额（元）"], "rows": [["物业费", "100.10"], ["车位费", "0.20"]]}]}
    n = await call("POST", "/notices", "yijing", draft, 201)
    assert n["versions"][0]["tables"][0]["totals"] == [None, "100.30"] and n["state"] == "draft"
    await call("PUT", "/notices/{notice_id}", "yijing", {**draft, "title": "10月收支公示"}, notice_id=n["id"])
    await call("POST", "/notices/{notice_id}/tables", "yijing", data=CSV.encode(), notice_id=n["id"])
    await call("POST", "/notices", "yijing", {**draft, "scope": {"level": "community", "codes": ["HX-YYL-PJ"]}}, 403)
    submitted = await call("POST", "/notices/{notice_id}/submit", "yijing", notice_id=n["id"])
    assert submitted["submitted_by"] == "staff:yijing" and submitted["state"] == "draft"
    refused = await call("POST", "/notices/{notice_id}/approve", "yijing", {}, 403, notice_id=n["id"])
    assert "自己撰写" in refused["message"]
    approved = await call("POST", "/notices/{notice_id}/approve", "youyilu", {}, notice_id=n["id"])
    assert approved["state"] == "published" and approved["versions"][0]["delivery"]["total"] >= 0
    waiting = await call("POST", "/notices/{notice_id}/correct", "youyilu", {"title": "更正", "body": "b", "note": "n"},
                         notice_id=n["id"])
    assert waiting["versions"][-1]["pending"] and waiting["version"] == 1
    await call("POST", "/notices/{notice_id}/correction/approve", "youyilu", {}, 403, notice_id=n["id"])
    fixed = await call("POST", "/notices/{notice_id}/correction/approve", "hexi", {}, notice_id=n["id"])
    assert fixed["version"] == 2 and fixed["versions"][-1]["approved_by"] == "staff:hexi"
    await call("POST", "/notices/{notice_id}/correct", "hexi", {"title": "再更正", "body": "c", "note": "m"},
               notice_id=n["id"])
    await call("POST", "/notices/{notice_id}/correction/discard", "hexi", {}, notice_id=n["id"])
    await call("GET", "/notices/{notice_id}", "yijing", notice_id=n["id"])
    await call("GET", "/notices/{notice_id}", "pingjiang", expect=404, notice_id=n["id"])
    listing = await call("GET", "/notices", "hexi")
    assert listing["total"] == 1
    assert (await call("GET", "/notices", "nankai"))["total"] == 0
    await call("POST", "/notices/{notice_id}/withdraw", "youyilu", {"reason": "重发"}, notice_id=n["id"])
    m = await call("POST", "/meetings", "yijing", {"community_id": yj, "held_on": "2026-11-12", "chair": "王丽",
                                                   "attendees": [{"role": "居委会", "name": "王丽"}]}, 201)
    await call("POST", "/meetings", "yijing", {"community_id": cworld.community["PJ"], "held_on": "2026-11-12",
                                               "chair": "x"}, 403)
    m = await call("POST", "/meetings/{meeting_id}/items", "yijing", {
        "topic": "电梯", "decision": "更换", "concerns_residents": True, "followup_owner": "物业",
        "followup_due": "2026-11-15"}, meeting_id=m["id"])
    await call("POST", "/meetings/{meeting_id}/close", "yijing", {"minutes": "记录", "attendee_count": 5},
               meeting_id=m["id"])
    m = await call("POST", "/meetings/{meeting_id}/publish", "yijing", {}, meeting_id=m["id"])
    assert m["state"] == "published" and m["notice_id"]
    await call("GET", "/meetings/{meeting_id}", "yijing", meeting_id=m["id"])
    cworld.clock.state["now"] = cworld.clock.state["now"].replace(day=28)
    overdue = await call("GET", "/meetings/followups/overdue", "youyilu")
    assert [i["topic"] for i in overdue["items"]] == ["电梯"]
    await call("POST", "/meetings/items/{item_id}/done", "yijing", {"note": "已完成"}, item_id=m["items"][0]["id"])
    assert (await call("GET", "/meetings/followups/overdue", "youyilu"))["items"] == []
    missing = await call("GET", "/meetings/missing", "hexi", query="?month=2026-11")
    assert {c["code"] for c in missing["communities"]} == {"HX-YYL-PJ", "HX-MJ-LS", "HX-MJ-FS"}
    await call("GET", "/meetings/missing", "hexi", expect=422, query="?month=2026-13")
    await call("GET", "/meetings", "hexi")
    await call("GET", "/meetings/reminders", "admin")
    assert not problems
    assert seen == documented


async def test_submit_for_review_reaches_the_second_community_account_who_approves(cworld):
    """提交审核: the author submits, the draft waits in 待审核 on the other community account's dashboard (not
    the author's own approval), the second account approves and it is published; submitting twice is refused."""
    client = cworld.client
    csrf = await cworld.login("yijing")
    await compose(cworld, csrf, f"community:{cworld.community['YJ']}", category="general", title="停水通知")
    nid = await _notice_id(cworld)
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "提交审核</button>" in detail and "审核并发布" not in detail
    resp = await client.post(f"/console/notices/{nid}/submit", data={"_csrf": csrf})
    page = await resp.text()
    assert "已提交审核" in page and "待审核" in page and "谊景社区演示账号 于" in page  # a name, not staff:yijing
    assert "staff:yijing" not in page and "提交审核</button>" not in page
    again = await client.post(f"/console/notices/{nid}/submit", data={"_csrf": csrf})
    assert "正在等待审核" in await again.text()
    async with cworld.services.db.transaction() as session:
        notice = await session.get(Notice, nid)
        assert notice.state == "draft" and notice.submitted_by == "staff:yijing"
    await cworld.logout(csrf)
    csrf = await cworld.login("pingjiang")  # another community: nothing waiting there
    assert "停水通知" not in await (await client.get("/console/")).text()
    await cworld.logout(csrf)
    csrf = await cworld.login("yijing2")
    home = await (await client.get("/console/")).text()
    assert "待审核的公示" in home and "停水通知" in home
    detail = await (await client.get(f"/console/notices/{nid}")).text()
    assert "审核并发布" in detail
    resp = await client.post(f"/console/notices/{nid}/approve", data={"_csrf": csrf, "publish_at": ""})
    assert "已发布" in await resp.text()
    async with cworld.services.db.transaction() as session:
        notice = await session.get(Notice, nid)
        assert notice.state == "published" and notice.approver == "staff:yijing2"
    assert "停水通知" not in await (await client.get("/console/")).text()  # the queue is empty again


async def test_submit_through_the_api(cworld):
    headers = cworld.bearer("yijing")
    body = {"category": "general", "title": "电梯检修", "body": "周三电梯检修。",
            "scope": {"level": "community", "ids": [cworld.community["YJ"]]}}
    created = await cworld.client.post("/api/v1/notices", json=body, headers=headers)
    nid = (await created.json())["id"]
    resp = await cworld.client.post(f"/api/v1/notices/{nid}/submit", headers=headers)
    data = await resp.json()
    assert resp.status == 200 and data["submitted_by"] == "staff:yijing" and data["submitted_at"]
    assert (await cworld.client.post(f"/api/v1/notices/{nid}/submit", headers=headers)).status == 422
    outside = await cworld.client.post(f"/api/v1/notices/{nid}/submit", headers=cworld.bearer("pingjiang"))
    assert outside.status == 404


async def test_submit_for_review_pushes_to_the_reviewers_who_linked_wechat(cworld):
    from sqlalchemy import update

    from storage.delivery_models import Broadcast
    from storage.models import Staff

    reviewer = await cworld.add_resident("YJ")  # the second account's own WeChat follows the account
    async with cworld.services.db.transaction() as session:
        await session.execute(update(Staff).where(Staff.username == "yijing2").values(openid=reviewer.openid))
    csrf = await cworld.login("yijing")
    await compose(cworld, csrf, f"community:{cworld.community['YJ']}", category="general", title="停电通知")
    nid = await _notice_id(cworld)
    page = await (await cworld.client.post(f"/console/notices/{nid}/submit", data={"_csrf": csrf})).text()
    assert "并已通过微信提醒 1 位审核人" in page
    async with cworld.services.db.transaction() as session:
        push = (await session.execute(select(Broadcast).where(Broadcast.source == f"notice-review:{nid}"))
                ).scalar_one()
    assert push.scope["refs"] == [reviewer.ref] and "停电通知" in push.text  # the author is not pushed
