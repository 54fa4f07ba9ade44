"""JSON API under /api/v1/surveys (Bearer tokens), documented in openapi.yaml beside this file.

    GET  /surveys                       campaigns visible in the jurisdiction, with participation
    POST /surveys                       create a draft (from a template, or with custom questions)
    GET  /surveys/templates             the ready-made questionnaires
    GET  /surveys/rankings?template=    subjects ranked across finished campaigns, with response counts
    GET  /surveys/{id}                  one campaign with its questions
    POST /surveys/{id}/questions        replace the questions (409 once a vote is in)
    POST /surveys/{id}/schedule | close | publish
    GET  /surveys/{id}/results          live or final results
    GET  /surveys/{id}/export?kind=responses|aggregates   CSV
    GET  /surveys/{id}/audit            who voted when (district level and above)
"""
from __future__ import annotations

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.toolkit import paging
from handlers.csv_export import csv_response
from handlers.surveys import access, export, service, stats
from handlers.surveys.templates_builtin import TEMPLATE_LABELS, TEMPLATES, build
from storage.models import StaffLevel
from storage.repositories import surveys as repo
from storage.survey_models import Survey


def survey_json(s: Survey, part: dict | None = None, questions: bool = False) -> dict:
    out = {"id": s.id, "title": s.title, "template": s.template, "subject_type": s.subject_type,
           "subject_id": s.subject_id, "subject_name": s.subject_name, "scope_level": s.scope_level,
           "scope_ids": list(s.scope_ids), "owners_only": s.owners_only, "per_household": s.per_household,
           "status": s.status, "opens_at": s.opens_at, "closes_at": s.closes_at, "opened_at": s.opened_at,
           "closed_at": s.closed_at, "published_at": s.published_at, "quota_per_estate": s.quota_per_estate,
           "reminders_max": s.reminders_max, "reminder_gap_hours": s.reminder_gap_hours,
           "reminders_sent": s.reminders_sent, "frozen": s.frozen, "questions_version": s.questions_version,
           "published_ref": s.published_ref}
    if part is not None:
        out |= {k: part[k] for k in ("respondents", "eligible", "participation")}
    if questions:
        out["questions"] = s.questions
    return out


async def _one(request: web.Request, s: Survey, status: int = 200) -> web.Response:
    [part] = await stats.participation(db(request), [s])
    return json_response(survey_json(s, part, questions=True), status)


@require_staff()
async def api_list(request: web.Request) -> web.Response:
    page = paging(request)
    status = request.query.get("status") or None
    found = await service.list_campaigns(db(request), statuses=[status] if status else None, limit=page.limit,
                                         offset=page.offset, community_ids=access.community_filter(request))
    parts = await stats.participation(db(request), found)
    return json_response({"surveys": [survey_json(s, p) for s, p in zip(found, parts)]})


@require_staff()
async def api_create(request: web.Request) -> web.Response:
    body, user = await read_json(request), current(request)
    body.setdefault("scope_codes", [])
    if isinstance(body["scope_codes"], str):
        body["scope_codes"] = body["scope_codes"].replace("，", ",").split(",")
    survey = await access.create_from(request, body, f"staff:{user.staff.username}")
    await audit(db(request), user, "survey.create", f"调查 {survey.id} {survey.title}", request)
    return await _one(request, survey, 201)


@require_staff()
async def api_templates(request: web.Request) -> web.Response:
    return json_response({"templates": [{"key": k, "label": TEMPLATE_LABELS[k], "subject_type": t["subject_type"],
                                         "questions": build(k)} for k, t in TEMPLATES.items()]})


@require_staff()
async def api_rankings(request: web.Request) -> web.Response:
    template = request.query.get("template", "property")
    if template not in TEMPLATE_LABELS:
        return json_error(400, "template 应为 property / developer / old-estate / custom 之一")
    ranked = await stats.rankings(db(request), template, access.community_filter(request))
    return json_response({"template": template, "rankings": ranked})


@require_staff()
async def api_get(request: web.Request) -> web.Response:
    return await _one(request, await access.visible_survey(request))


@require_staff()
async def api_questions(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    await access.require_manage(request, survey)
    body = await read_json(request)
    await service.replace_questions(db(request), survey, body.get("questions"), current(request).now)
    await audit(db(request), current(request), "survey.questions", f"调查 {survey.id}", request)
    return await _one(request, survey)


def _action(name: str, label: str):
    @require_staff()
    async def act(request: web.Request) -> web.Response:
        survey = await access.visible_survey(request)
        await access.require_manage(request, survey)
        user = current(request)
        if name == "schedule":
            await service.schedule(db(request), survey, user.now)
        elif name == "close":
            await service.close_now(db(request), survey, user.now)
        else:
            await service.publish(db(request), survey, f"staff:{user.staff.username}", user.now)
        await audit(db(request), user, f"survey.{name}", f"调查 {survey.id} {label}", request)
        return await _one(request, survey)

    act.__name__ = f"api_{name}"
    return act


@require_staff()
async def api_results(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    result = await stats.results(db(request), survey)
    result.pop("estate_names"), result.pop("community_names")
    return json_response({"survey": survey_json(survey), "results": result})


async def export_csv(request: web.Request) -> web.Response | None:
    """The CSV export the request asks for (`?kind=aggregates|responses`), audited; None for an unknown kind.
    Shared by the API and the console page."""
    survey = await access.visible_survey(request)
    kind = request.query.get("kind", "aggregates")
    if kind == "responses":
        await access.require_manage(request, survey)
        text = await export.responses_csv(db(request), survey)
    elif kind == "aggregates":
        text = export.aggregates_csv(survey, await stats.results(db(request), survey))
    else:
        return None
    await audit(db(request), current(request), "survey.export", f"调查 {survey.id} {kind}", request)
    return csv_response(text, f"survey-{survey.id}-{kind}.csv")


@require_staff()
async def api_export(request: web.Request) -> web.Response:
    return await export_csv(request) or json_error(400, "kind 应为 responses 或 aggregates")


async def audit_entries(request: web.Request, survey: Survey) -> list[dict]:
    if not access.at_least_district(current(request).level):
        raise web.HTTPForbidden()
    await access.require_manage(request, survey)
    rows = await repo.audit_rows(db(request), survey.id)
    estates, _ = await repo.names(db(request), {r[1] for r in rows if r[1]}, [])
    await audit(db(request), current(request), "survey.audit", f"调查 {survey.id}", request)
    return [{"ref": ref, "estate": estates.get(estate_id, "未填小区"), "action": action, "at": at}
            for ref, estate_id, action, at in rows]


@require_staff(StaffLevel.district)
async def api_audit(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    return json_response({"survey_id": survey.id, "entries": await audit_entries(request, survey)})


ROUTES = [("GET", "/surveys", api_list), ("POST", "/surveys", api_create),
          ("GET", "/surveys/templates", api_templates), ("GET", "/surveys/rankings", api_rankings),
          ("GET", "/surveys/{survey_id}", api_get), ("POST", "/surveys/{survey_id}/questions", api_questions),
          ("POST", "/surveys/{survey_id}/schedule", _action("schedule", "排期")),
          ("POST", "/surveys/{survey_id}/close", _action("close", "提前结束")),
          ("POST", "/surveys/{survey_id}/publish", _action("publish", "公布结果")),
          ("GET", "/surveys/{survey_id}/results", api_results), ("GET", "/surveys/{survey_id}/export", api_export),
          ("GET", "/surveys/{survey_id}/audit", api_audit)]
