"""The staff side over HTTP on the known data set: the OpenAPI fragment against the running server, pages (ranking,
company page with its sources, CSV, printable page), jurisdiction (who sees which scorecard), publishing chosen
figures and what residents then see with 「物业评分」, withdrawing, disclosure duties, bad input, the panel."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.simulator import WeChatSimulator
from handlers.console import CONSOLE
from storage.console_models import AuditEntry
from storage.models import Estate, PropertyCompany, Resident, ResidentRole
from storage.scorecard_models import DisclosureRule, ScorecardPublication
from tests.console.test_api import check, resolve
from tests.scorecards.dataset import NOW
from tests.support import BASE

HERE = Path(__file__).resolve().parents[2] / "handlers" / "scorecards"
OCT = "period=2026-10"


async def api(world, method, path, who="admin", **kw):
    resp = await getattr(world.client, method)("/api/v1" + path, headers=world.bearer(who), **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    return resp.status, body


async def company_id(world, code: str) -> int:
    async with world.services.db.transaction() as session:
        return await session.scalar(select(PropertyCompany.id).where(PropertyCompany.code == code))


async def resident(world, estate_code: str, openid: str) -> None:
    async with world.services.db.transaction() as session:
        eid, cid = (await session.execute(select(Estate.id, Estate.community_id)
                                          .where(Estate.code == estate_code))).one()
        session.add(Resident(openid=openid, community_id=cid, estate_id=eid, role=ResidentRole.owner,
                             building="1", room="101", bound_at=NOW))


async def say(world, openid: str, text: str) -> str:
    sim = WeChatSimulator(str(world.client.server.make_url("/wechat")), BASE.wechat_token, BASE.wechat_appid)
    try:
        response = await sim.text(openid, text)
    finally:
        await sim.close()
    assert response.status == 200
    return response.text


def _matches(template: str, url: str) -> bool:
    a, b = template.strip("/").split("/"), url.split("?")[0].strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b))


async def test_openapi_fragment_matches_the_running_server(world):
    fragment = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in fragment["paths"].items() for m in ops}
    mounted = {(r.method, r.path) for r in world.client.server.app[CONSOLE].registry.api_routes
               if r.path.startswith("/scorecards")}
    assert documented == mounted
    doc = await (await world.client.get("/api/v1/openapi.json")).json()
    ja = await company_id(world, "WY-JA")
    calls = [("GET", f"/scorecards?{OCT}&estates=1", None), ("GET", f"/scorecards/property/{ja}?{OCT}", None),
             ("POST", f"/scorecards/property/{ja}/publish", {"period": "2026-10", "groups": ["survey"]}),
             ("GET", "/scorecards/publications", None), ("POST", "/scorecards/publications/1/withdraw", None),
             ("GET", "/scorecards/disclosure-rules", None),
             ("POST", "/scorecards/disclosure-rules", {"estates": ["HX-MJ-LS-01"], "category": "finance",
                                                       "frequency": "monthly", "due_day": 10}),
             ("DELETE", "/scorecards/disclosure-rules/1", None),
             ("GET", "/scorecards?period=2026-13", None), ("GET", "/scorecards/property/99999", None)]
    problems = []
    for method, url, body in calls:
        template = max((p for p in doc["paths"] if _matches(p, url) and method.lower() in doc["paths"][p]),
                       key=lambda p: sum(not part.startswith("{") for part in p.split("/")))
        op = doc["paths"][template][method.lower()]
        status, data = await api(world, method.lower(), url, json=body) if body is not None else \
            await api(world, method.lower(), url)
        if str(status) not in op["responses"]:
            problems.append((method, url, status, data))
            continue
        schema = resolve(doc, op["responses"][str(status)])["content"]["application/json"]["schema"]
        problems += [(method, url, p) for p in check(doc, schema, data)]
    assert not problems
    status, text = await api(world, "get", f"/scorecards?{OCT}&format=csv")
    assert status == 200 and text.startswith("\ufeff层级")


async def test_api_board_and_detail_carry_the_hand_figures(world):
    status, body = await api(world, "get", f"/scorecards?{OCT}")
    assert status == 200 and body["area_label"] == "全部辖区" and body["weights"]["survey"] == 40
    cards = {c["code"]: c for c in body["cards"]}
    assert [c["code"] for c in body["cards"]][:2] == ["WY-MJ", "WY-JA"]
    ja = cards["WY-JA"]
    assert (ja["rank"], ja["score"], ja["survey"]["satisfaction"], ja["tickets"]["received"]) == (2, 60.1, 0.625, 8)
    assert ja["tickets"]["response_rate"] == 75.0 and ja["disclosure"]["missing"] == 1
    assert cards["WY-HH"]["flags"] == ["no_responses"] and cards["WY-HH"]["rank"] is None
    status, detail = await api(world, "get", f"/scorecards/property/{ja['subject_id']}?{OCT}")
    assert status == 200
    titles = {c["title"][-1] for c in detail["sources"]["campaigns"]}
    assert titles == {"A", "C"}  # which campaigns: not the superseded B, not F (closed after October)
    numbers = {t["number"] for t in detail["sources"]["tickets"]}
    assert numbers == {f"JF2026TEST-{n:04d}" for n in (1, 2, 3, 4, 5, 6, 7, 10)}
    assert {d["status"] for d in detail["sources"]["disclosures"]} == {"on_time", "late", "missing"}
    assert [p["period"] for p in detail["trend"]][-1] == "2026-10" and len(detail["trend"]) == 6


async def test_pages_trace_every_figure(world):
    await world.login("hexi")
    ja = await company_id(world, "WY-JA")
    listing = await (await world.client.get(f"/console/scorecards?{OCT}")).text()
    assert "津安物业服务有限公司" in listing and "梅江嘉园物业服务有限公司" in listing and "无调查答卷" in listing
    assert '<select name="period">' in listing and 'name="period" value=' not in listing  # a picker, no codes
    assert '<option value="2026-Q4" selected>2026年第4季度</option>' in await (
        await world.client.get("/console/scorecards?period=2026-Q4")).text()
    page = await (await world.client.get(f"/console/scorecards/property/{ja}?{OCT}")).text()
    async with world.services.db.transaction() as session:
        from storage.survey_models import Survey
        a = await session.scalar(select(Survey.id).where(Survey.title.endswith(" A")))
    assert f'href="/console/surveys/{a}"' in page  # the campaign
    assert "JF2026TEST-0010" in page and "/console/tickets/" in page  # the tickets
    assert f'href="/console/notices/{world.data["notices"]["fin-yj"]}"' in page  # the disclosure that counted
    assert "60.1" in page and "未计入" not in page.split("综合得分的组成")[1].split("</table>")[0]
    resp = await world.client.get(f"/console/scorecards/property/{ja}/sources.csv?{OCT}")
    rows = list(csv.reader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert rows[0][0] == "工单编号" and len(rows) == 1 + 8
    header = rows[0]
    assert sum(int(r[header.index("按时响应")]) for r in rows[1:]) == 6
    export = await world.client.get(f"/console/scorecards/export.csv?{OCT}")
    table = list(csv.reader(io.StringIO((await export.text()).lstrip("\ufeff"))))
    ja_row = next(r for r in table if r[0] == "单位合计" and r[2] == "WY-JA")
    assert ja_row[table[0].index("综合得分")] == "60.1" and ja_row[table[0].index("名次")] == "2"
    printable = await world.client.get(f"/console/scorecards/print?{OCT}")
    text = await printable.text()
    assert printable.status == 200 and "口径与权重" in text and "/console/scorecards/print.css" in text
    css = await world.client.get("/console/scorecards/print.css")
    assert css.status == 200 and css.content_type == "text/css"
    async with world.services.db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("scorecard.export") == 2


async def test_jurisdiction_decides_who_sees_which_scorecard(world):
    ja, mj = await company_id(world, "WY-JA"), await company_id(world, "WY-MJ")
    status, body = await api(world, "get", f"/scorecards?{OCT}", "youyilu")
    cards = {c["code"]: c for c in body["cards"]}
    assert set(cards) == {"WY-JA", "WY-HH", "WY-JY"} and body["area_label"] == "友谊路街道"
    assert cards["WY-JA"]["tickets"]["received"] == 7 and cards["WY-JA"]["survey"]["respondents"] == 6
    assert (await api(world, "get", f"/scorecards/property/{mj}?{OCT}", "youyilu"))[0] == 404
    status, body = await api(world, "get", f"/scorecards?{OCT}", "yijing")
    assert {c["code"] for c in body["cards"]} == {"WY-JA", "WY-HH"}
    status, body = await api(world, "get", f"/scorecards?{OCT}", "nankai")
    assert status == 200 and body["cards"] == []
    assert (await api(world, "get", f"/scorecards/property/{ja}?{OCT}", "nankai"))[0] == 404
    async with world.services.db.transaction() as session:
        from storage.models import Street
        meijiang = await session.scalar(select(Street.id).where(Street.code == "HX-MJ"))
        youyi = await session.scalar(select(Street.id).where(Street.code == "HX-YYL"))
    status, body = await api(world, "get", f"/scorecards?{OCT}&area=street:{meijiang}", "youyilu")
    assert status == 403 and "辖区" in body["message"]
    status, body = await api(world, "get", f"/scorecards?{OCT}&area=street:{youyi}", "hexi")
    assert status == 200 and body["area_label"] == "友谊路街道"  # a district ranks one of its streets
    assert {c["code"] for c in body["cards"]} == {"WY-JA", "WY-HH", "WY-JY"}
    await world.login("youyilu")
    assert (await world.client.get(f"/console/scorecards/property/{mj}?{OCT}")).status == 404
    page = await (await world.client.get(f"/console/scorecards?{OCT}")).text()
    assert "梅江嘉园" not in page and "梅江湾" not in page


async def test_publish_then_residents_see_only_what_was_published(world):
    ja = await company_id(world, "WY-JA")
    await resident(world, "HX-YYL-YJ-01", "o_score_yj01")
    await resident(world, "HX-MJ-FS-02", "o_score_fs02")
    await resident(world, "HX-YYL-YJ-03", "o_score_yj03")
    before = await say(world, "o_score_yj01", "物业评分")
    assert "暂未公布" in before and "62.5" not in before
    status, _ = await api(world, "post", f"/scorecards/property/{ja}/publish", "yijing",
                          json={"period": "2026-10", "groups": ["survey"]})
    assert status == 403  # community staff do not publish assessments
    csrf = await world.login("youyilu")
    resp = await world.client.post(f"/console/scorecards/property/{ja}/publish",
                                   data={"_csrf": csrf, "period": "2026-10", "groups": ["composite", "survey"]},
                                   allow_redirects=False)
    assert resp.status == 303
    reply = await say(world, "o_score_yj01", "物业评分")
    # 友谊路街道's view: 谊景花园 + 友谊新城 (campaign A): 24 of 36 ratings at 4–5; 谊景花园 alone 15 of 24
    assert "津安物业服务有限公司" in reply and "2026年10月" in reply and "友谊路街道" in reply
    assert "66.7%" in reply and "其中谊景花园：满意率 62.5%" in reply and "6 份答卷" in reply
    assert "综合得分" in reply and "投诉" not in reply.split("以上为")[0]  # tickets were not published
    assert "暂未公布" in await say(world, "o_score_fs02", "物业评分")  # 梅江湾 is outside 友谊路街道
    assert "暂未公布" in await say(world, "o_score_yj03", "物业评分")  # 谊安里 is run by another company
    async with world.services.db.transaction() as session:
        pub = (await session.execute(select(ScorecardPublication))).scalar_one()
    status, _ = await api(world, "post", f"/scorecards/publications/{pub.id}/withdraw", "pingjiang")
    assert status == 403
    resp = await world.client.post(f"/console/scorecards/publications/{pub.id}/withdraw", data={"_csrf": csrf},
                                   allow_redirects=False)
    assert resp.status == 303
    assert "暂未公布" in await say(world, "o_score_yj01", "物业评分")
    status, body = await api(world, "post", f"/scorecards/publications/{pub.id}/withdraw", "youyilu")
    assert status == 409
    status, body = await api(world, "post", f"/scorecards/property/{ja}/publish", "youyilu",
                             json={"period": "2026-10", "groups": []})
    assert status == 422 and "至少" in body["message"]
    async with world.services.db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "scorecard.publish" in actions and "scorecard.withdraw" in actions


async def test_developer_score_in_chat(world):
    await resident(world, "HX-YYL-YJ-02", "o_dev_yj02")
    async with world.services.db.transaction() as session:
        from storage.models import Developer
        hx = await session.scalar(select(Developer.id).where(Developer.code == "KF-HX"))
    status, body = await api(world, "post", f"/scorecards/developer/{hx}/publish", "hexi",
                             json={"period": "2026-10", "groups": ["disclosure"]})
    assert status == 422 and "开发建设单位" in body["message"]
    status, _ = await api(world, "post", f"/scorecards/developer/{hx}/publish", "hexi",
                          json={"period": "2026-10", "groups": ["tickets", "composite"]})
    assert status == 201
    reply = await say(world, "o_dev_yj02", "开发商评分")
    # one 开发商质量 ticket, resolved and rated 4; two answers only: flagged, not ranked
    assert "河西建投" in reply and "受理投诉 1 件" in reply and "样本不足" in reply and "暂不排名" in reply


async def test_unbound_resident_is_asked_to_bind(world):
    assert "绑定" in await say(world, "o_score_new", "物业评分")


async def test_disclosure_duties(world):
    csrf = await world.login("yijing")
    page = await (await world.client.get("/console/scorecards/disclosures")).text()
    assert "谊景花园" in page and "由街道及以上工作人员设置" in page and "梅江湾" not in page
    status, _ = await api(world, "post", "/scorecards/disclosure-rules", "yijing",
                          json={"estates": ["HX-YYL-YJ-01"], "category": "finance", "frequency": "monthly",
                                "due_day": 5})
    assert status == 403
    status, body = await api(world, "post", "/scorecards/disclosure-rules", "youyilu",
                             json={"estates": ["HX-MJ-LS-01"], "category": "finance", "frequency": "monthly",
                                   "due_day": 5})
    assert status == 403  # outside 友谊路街道
    status, body = await api(world, "post", "/scorecards/disclosure-rules", "youyilu",
                             json={"estates": ["HX-YYL-YJ-01"], "category": "finance", "frequency": "monthly",
                                   "due_day": 40})
    assert status == 422 and "1 到 28" in body["message"]
    status, body = await api(world, "post", "/scorecards/disclosure-rules", "youyilu",
                             json={"estates": ["HX-YYL-YJ-99"], "category": "finance", "frequency": "monthly",
                                   "due_day": 5})
    assert status == 422 and "HX-YYL-YJ-99" in body["message"]
    # change 谊景花园's 收支 duty to the 5th: the notice of 8 October becomes late
    status, body = await api(world, "post", "/scorecards/disclosure-rules", "youyilu",
                             json={"estates": ["HX-YYL-YJ-01", "HX-YYL-PJ-02"], "category": "finance",
                                   "frequency": "monthly", "due_day": 5, "effective_from": "2026-01-01"})
    assert status == 200 and body["saved"] == 2
    status, board = await api(world, "get", f"/scorecards?{OCT}", "youyilu")
    ja = next(c for c in board["cards"] if c["code"] == "WY-JA")
    assert (ja["disclosure"]["on_time"], ja["disclosure"]["late"]) == (0, 2)
    async with world.services.db.transaction() as session:
        rule = await session.scalar(select(DisclosureRule.id).join(Estate).where(Estate.code == "HX-YYL-PJ-02"))
    world.client.session.cookie_jar.clear()
    csrf = await world.login("youyilu")
    resp = await world.client.post(f"/console/scorecards/disclosures/{rule}/delete", data={"_csrf": csrf},
                                   allow_redirects=False)
    assert resp.status == 303
    assert (await api(world, "delete", f"/scorecards/disclosure-rules/{rule}", "youyilu"))[0] == 404
    resp = await world.client.post("/console/scorecards/disclosures",
                                   data={"_csrf": csrf, "estate": [], "category": "finance", "frequency": "monthly",
                                         "due_day": "10"}, allow_redirects=True)
    assert "请选择至少一个小区" in await resp.text()


async def test_bad_input_gets_a_clear_answer(world):
    await world.login("hexi")
    resp = await world.client.get("/console/scorecards?period=2026-13")
    assert resp.status == 400 and "格式有误" in await resp.text()
    resp = await world.client.get("/console/scorecards?kind=bank")
    assert resp.status == 400 and "kind" in await resp.text()
    resp = await world.client.get("/console/scorecards?area=street:abc")
    assert resp.status == 400
    assert (await world.client.get("/console/scorecards/bank/1")).status == 404
    assert (await world.client.get("/console/scorecards/property/abc")).status == 404
    status, body = await api(world, "get", "/scorecards?period=Q3")
    assert status == 400 and "2026-Q3" in body["message"]
    status, body = await api(world, "post", "/scorecards/property/1/publish", "hexi", json={"groups": "all"})
    assert status == 422


async def test_bad_configuration_is_named(world):
    world.services.settings = world.services.settings.with_env({"LINLI_SCORECARD_WEIGHTS_PROPERTY": "speed:5"})
    world.services.extras.pop("scorecards.config", None)
    status, body = await api(world, "get", f"/scorecards?{OCT}")
    assert status == 503 and "speed" in body["message"]
    await world.login("hexi")
    resp = await world.client.get(f"/console/scorecards?{OCT}")
    assert resp.status == 503 and "LINLI_SCORECARD_WEIGHTS_PROPERTY" in await resp.text()


async def test_dashboard_panel(world):
    await world.login("youyilu")
    home = await (await world.client.get("/console/")).text()
    assert "物业服务企业评议" in home and "暂不排名" in home  # this quarter: nobody has 30 answers
