"""Staff console for surveys: list and create from a template, a campaign's page (live results with inline-SVG
charts, participation per estate, schedule / close / publish, CSV exports), the audit listing (district level
and above), subject rankings, and the dashboard panel "open surveys with participation" (SLOTS["surveys"]).
The JSON API is in api.py; both use access.py for who may see and manage what.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from handlers.console import pickers
from handlers.console.audit import audit
from handlers.console.charts import bar_chart
from handlers.console.guard import current, db, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import Form, flash, humanize, render, see_other, staff_names_for
from handlers.surveys import access, api, console_paper, service, stats
from handlers.surveys.templates_builtin import SUBJECT_LABELS, TEMPLATE_LABELS
from storage.models import Developer, PropertyCompany, StaffLevel
from storage.repositories import surveys as repo
from storage.survey_models import Survey

HERE = Path(__file__).parent
FIELDS = ("template", "subject", "title", "scope_level", "scope_codes", "opens_at", "closes_at", "owners_only",
          "per_household", "quota_per_estate", "reminders_max", "reminder_gap_hours")
LEVEL_LABELS = [("community", "社区"), ("estate", "小区"), ("street", "街道"), ("district", "区县")]
LABELS = ({"survey.create": "创建满意度调查", "survey.schedule": "调查排期", "survey.close": "提前结束调查",
                      "survey.publish": "公布调查结果", "survey.paper": "录入纸质问卷", "survey.questions": "修改调查题目",
                      "survey.export": "导出调查数据", "survey.audit": "查看调查投票记录"})


async def _list_context(request: web.Request) -> dict:
    session = db(request)
    found = await service.list_campaigns(session, community_ids=access.community_filter(request), limit=100)
    parts = {p["id"]: p for p in await stats.participation(session, found)}
    companies = (await session.execute(select(PropertyCompany.code, PropertyCompany.name))).all()
    developers = (await session.execute(select(Developer.code, Developer.name))).all()
    return {"rows": [(s, parts[s.id]) for s in found], "templates": list(TEMPLATE_LABELS.items()),
            "levels": LEVEL_LABELS, "subjects": list(companies) + list(developers), "statuses": service.STATUS_LABELS,
            "subject_groups": [("物业服务企业", list(companies)), ("开发建设单位", list(developers))],
            "scope_options": [(g, opts) for g, opts in await pickers.scope_options(session, current(request).scope)
                              if g != "全市"]}


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    form = Form({"owners_only": "on", "per_household": "on", "reminders_max": "2", "reminder_gap_hours": "48",
                 "scope_level": "community"})
    return render(request, "surveys/list.html", title="满意度调查", form=form, **await _list_context(request))


@require_staff()
async def create(request: web.Request) -> web.Response:
    form = await Form.read(request, *FIELDS, "subject_other", "scope")
    picked = form.many("scope")
    form.values["scope"] = picked  # type: ignore[assignment]  (re-selected on the form after an error)
    data = dict(form.values, owners_only=form.values["owners_only"] == "on",
                per_household=form.values["per_household"] == "on",
                subject=form.values["subject"] or form.values["subject_other"],
                scope_codes=form.values["scope_codes"].replace("，", ",").split(","))
    user = current(request)
    try:
        if picked:  # the picker (names); codes typed by hand remain possible for old bookmarks and scripts
            scope = pickers.parse_scope(picked)
            if scope is None or scope[0] == "all":
                raise service.SurveyError("请选择调查范围（同一级别的社区、小区、街道或区县，可多选）")
            data["scope_level"], data["scope_codes"] = scope[0], await pickers.codes_for(db(request), *scope)
        elif not form.values["scope_codes"]:
            raise service.SurveyError("请选择调查范围（同一级别的社区、小区、街道或区县，可多选）")
        survey = await access.create_from(request, data, f"staff:{user.staff.username}")
    except service.SurveyError as exc:
        form.error("survey", str(exc))
        return render(request, "surveys/list.html", title="满意度调查", form=form, errors=form.errors, status=422,
                      **await _list_context(request))
    await audit(db(request), user, "survey.create", f"调查 {survey.id} {survey.title}", request)
    await flash(request, "已创建草稿。核对题目后点「排期」，到开始时间会自动开启并邀请居民。")
    raise see_other(f"/console/surveys/{survey.id}")


@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    session = db(request)
    result = await stats.results(session, survey)
    history = await repo.history(session, survey.id)
    names = await staff_names_for(session, [entry.detail for entry in history])
    log = [{"at": entry.at, "event": EVENT_LABELS.get(entry.event, entry.event),
            "detail": humanize(_detail(entry.event, entry.detail), names)} for entry in history]
    return render(request, "surveys/detail.html", title=survey.title, s=survey, r=result, charts=_charts(result),
                  manage=await access.manageable(request, survey), log=log,
                  statuses=service.STATUS_LABELS, subject_label=SUBJECT_LABELS.get(survey.subject_type, "对象"),
                  can_audit=access.at_least_district(current(request).level))


EVENT_LABELS = {"created": "创建", "scheduled": "排期", "questions": "修改题目", "opened": "开始", "invited": "邀请居民",
                "reminded": "提醒未参与的居民", "closed": "结束", "published": "公布结果"}


def _detail(event: str, detail: str | None) -> str | None:
    """The log's detail as staff read it: the published result's notice, not its internal reference."""
    if event == "published" and detail and detail.startswith("notice:"):
        return f"已生成结果公示（公示编号 {detail.split(':', 1)[1]}）"
    if event == "created" and detail:
        return detail.removesuffix(" 创建")
    return detail


def _pct(value) -> float:
    return 0.0 if value is None else value * 100


def _charts(result: dict) -> dict:
    """Inline-SVG bar charts: participation per estate, and each question's distribution (count · share)."""
    charts = {"participation": bar_chart([(e["estate"], _pct(e["participation"])) for e in result["estates"]],
                                         title="各小区参与率", unit="%", max_value=100,
                                         value_texts=[f"{e['respondents']}/{e['eligible']} · "
                                                      f"{_pct(e['participation']):.1f}%" for e in result["estates"]])}
    for q in result["questions"]:
        if q.get("distribution"):
            charts[q["id"]] = bar_chart([(d["label"], _pct(d["share"])) for d in q["distribution"]],
                                        title=q["title"], unit="%", max_value=100,
                                        value_texts=[f"{d['count']} · {_pct(d['share']):.1f}%"
                                                     for d in q["distribution"]])
    return charts


def _action(name: str):
    @require_staff()
    async def act(request: web.Request) -> web.Response:
        survey = await access.visible_survey(request)
        await access.require_manage(request, survey)
        user, session = current(request), db(request)
        try:
            if name == "schedule":
                await service.schedule(session, survey, user.now)
                done = "已排期，到开始时间自动开启并推送邀请。"
            elif name == "close":
                await service.close_now(session, survey, user.now)
                done = "调查已结束，可以公布结果。"
            else:
                ref = await service.publish(session, survey, f"staff:{user.staff.username}", user.now)
                done = f"结果已公布（{ref}），并推送给范围内的居民。"
        except service.SurveyError as exc:
            await flash(request, str(exc), "error")
            raise see_other(f"/console/surveys/{survey.id}") from None
        await audit(session, user, f"survey.{name}", f"调查 {survey.id}", request)
        await flash(request, done)
        raise see_other(f"/console/surveys/{survey.id}")

    act.__name__ = f"page_{name}"
    return act


@require_staff()
async def export_page(request: web.Request) -> web.Response:
    response = await api.export_csv(request)
    if response is None:
        raise web.HTTPNotFound()
    return response


@require_staff(StaffLevel.district)
async def audit_page(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    entries = await api.audit_entries(request, survey)
    return render(request, "surveys/audit.html", title=f"{survey.title} 投票记录", s=survey, entries=entries)


@require_staff()
async def rankings_page(request: web.Request) -> web.Response:
    template = request.query.get("template", "property")
    if template not in TEMPLATE_LABELS:
        template = "property"
    ranked = await stats.rankings(db(request), template, access.community_filter(request))
    return render(request, "surveys/rankings.html", title="满意度排名", ranked=ranked, chosen=template,
                  templates=list(TEMPLATE_LABELS.items()))


def console(registry) -> None:
    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("满意度调查", "/console/surveys", order=40)
    registry.page("GET", "/surveys", list_page)
    registry.page("POST", "/surveys", create)
    registry.page("GET", "/surveys/rankings", rankings_page)
    registry.page("GET", "/surveys/{survey_id}", detail_page)
    for name in ("schedule", "close", "publish"):
        registry.page("POST", f"/surveys/{{survey_id}}/{name}", _action(name))
    registry.page("GET", "/surveys/{survey_id}/export.csv", export_page)
    registry.page("GET", "/surveys/{survey_id}/audit", audit_page)
    registry.page("GET", "/surveys/{survey_id}/paper", console_paper.paper_page)
    registry.page("POST", "/surveys/{survey_id}/paper", console_paper.paper_post)
    registry.api("POST", "/surveys/{survey_id}/paper", console_paper.api_paper)
    for method, path, handler in api.ROUTES:
        registry.api(method, path, handler)

    @registry.panel("surveys", "进行中的满意度调查", order=SLOTS["surveys"], cache_seconds=30)
    async def open_surveys(session, user):
        from handlers.console.authz import visible_communities

        ids = None if user.scope.is_admin else visible_communities(user.scope)
        found: list[Survey] = await service.list_campaigns(session, statuses=["open"], community_ids=ids, limit=10)
        if not found:
            return None
        parts = await stats.participation(session, found)
        chart = bar_chart([(s.subject_name, _pct(p["participation"])) for s, p in zip(found, parts)],
                          title="参与率", unit="%", max_value=100)
        return user.fragment("surveys/panel.html", rows=list(zip(found, parts)), chart=chart)
