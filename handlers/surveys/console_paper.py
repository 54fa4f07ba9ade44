"""录入纸质问卷: the console page and the API route where staff enter one paper questionnaire per household for an
open campaign (handlers/surveys/paper.py keeps the one-voice rule). Only the campaign's estates inside the
caller's jurisdiction can be chosen; each entry is audited."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.errors import Conflict, Invalid
from handlers.console.api import json_response, read_json
from handlers.console.audit import audit
from handlers.console.authz import can_see_community
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.surveys import access, paper
from handlers.surveys.voting import VoteRefused
from storage.models import Community, Estate
from storage.repositories import surveys as repo
from storage.survey_models import Survey

BASE_FIELDS = ("estate_id", "building", "room", "collector")


async def estate_choices(request: web.Request, survey: Survey) -> list[tuple[int, str]]:
    """(estate id, 社区 · 小区) of the campaign's estates the caller may enter forms for."""
    session, scope = db(request), current(request).scope
    areas = await repo.areas(session, survey.id)
    communities = {c for c, e in areas if e is None}
    estates = {e for _, e in areas if e is not None}
    rows = (await session.execute(
        select(Estate.id, Estate.community_id, Community.name, Estate.name).join(Community)
        .where((Estate.community_id.in_(communities)) | (Estate.id.in_(estates)))
        .order_by(Community.code, Estate.name))).all()
    return [(eid, f"{cname} · {ename}") for eid, cid, cname, ename in rows if can_see_community(scope, cid)]


def _estate_id(raw: object) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


async def _enter(request: web.Request, survey: Survey, values: dict, answers: dict):
    """Enter the form; the response or a VoteRefused. The estate must be one the caller may choose."""
    user, session = current(request), db(request)
    estate_id = _estate_id(values.get("estate_id"))
    if estate_id is None or estate_id not in {e for e, _ in await estate_choices(request, survey)}:
        raise VoteRefused("请选择本次调查范围内、您辖区内的小区。")
    row = await paper.enter(session, survey, estate_id=estate_id, building=values.get("building"),
                            room=values.get("room"), answers=answers, collector=values.get("collector"),
                            entered_by=f"staff:{user.staff.username}", now=user.now,
                            household_key=state_of(request).services.settings.household_secret)
    await audit(session, user, "survey.paper", f"调查 {survey.id} 纸质问卷 {row.id}", request,
                community_id=row.community_id)
    return row


async def _page(request: web.Request, survey: Survey, values: dict, problems: dict, status: int = 200,
                refused: str | None = None) -> web.Response:
    return render(request, "surveys/paper.html", status=status, title=f"{survey.title} 录入纸质问卷", s=survey,
                  estates=await estate_choices(request, survey), values=values, errors=problems, refused=refused)


@require_staff()
async def paper_page(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    return await _page(request, survey, {}, {})


@require_staff()
async def paper_post(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    form = await Form.read(request)
    names = [f"q_{q['id']}" for q in survey.questions]
    answers, problems = paper.answers_from_form(survey.questions, {n: form.get(n) for n in names},
                                                {n: form.many(n) for n in names})
    values = {**{n: form.get(n) for n in BASE_FIELDS}, **{n: form.many(n) for n in names}}
    if problems:
        return await _page(request, survey, values, problems, status=400)
    try:
        await _enter(request, survey, values, answers)
    except VoteRefused as exc:
        return await _page(request, survey, values, {}, status=409, refused=exc.message)
    await flash(request, f"已录入 {values['building']}-{values['room']} 的纸质问卷，可继续录入下一份。")
    raise see_other(f"/console/surveys/{survey.id}/paper")


@require_staff()
async def api_paper(request: web.Request) -> web.Response:
    survey = await access.visible_survey(request)
    body = await read_json(request)
    answers = body.get("answers")
    if not isinstance(answers, dict):
        raise Invalid("answers 应为 {题目编号: 回答} 对象", errors={"answers": "应为对象"})
    try:
        row = await _enter(request, survey, body, answers)
    except VoteRefused as exc:
        raise Conflict(exc.message) from None
    return json_response({"id": row.id, "channel": row.channel, "estate_id": row.estate_id,
                          "created_at": row.created_at}, status=201)
