"""Staff access to campaigns, shared by the console pages and the JSON API.

- A campaign is *visible* to staff whose jurisdiction touches any of its communities (a community worker follows
  the district's campaign in their community), and looked up by id as 404 otherwise.
- It is *manageable* (schedule, questions, close, publish, export of responses) only when all its communities lie
  inside the jurisdiction.
- The audit listing of who voted when needs district level or above, plus manageability.
Also: parsing the create form/JSON into `service.create` arguments (Beijing local times accepted).
"""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.localtime import LOCAL_TZ as LOCAL
from handlers.console.authz import at_least, can_see_community, visible_communities
from handlers.console.guard import current, db
from handlers.console.toolkit import visible
from handlers.surveys import service
from storage.models import StaffLevel
from storage.repositories import surveys as repo
from storage.survey_models import Survey

AUDIT_LEVEL = StaffLevel.district


def community_filter(request: web.Request):
    scope = current(request).scope
    return None if scope.is_admin else visible_communities(scope)


async def visible_survey(request: web.Request) -> Survey:
    return await visible(request, "survey_id", repo.get,
                         community=lambda survey: repo.area_communities(db(request), survey.id))


async def manageable(request: web.Request, survey: Survey) -> bool:
    communities = await repo.area_communities(db(request), survey.id)
    return all(can_see_community(current(request).scope, c) for c in communities)


async def require_manage(request: web.Request, survey: Survey) -> None:
    if not await manageable(request, survey):
        raise web.HTTPForbidden()


def at_least_district(level: StaffLevel) -> bool:
    return at_least(level, AUDIT_LEVEL)


def when(raw: str | None) -> datetime:
    """An ISO date-time; without an offset it is Beijing time (as typed in the console)."""
    value = datetime.fromisoformat(str(raw or "").strip())
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


async def create_from(request: web.Request, data: dict, created_by: str) -> Survey:
    """Validate the jurisdiction of the scope and create a draft; raises service.SurveyError (Chinese)."""
    session, user = db(request), current(request)
    level = str(data.get("scope_level") or "")
    codes = [c.strip() for c in (data.get("scope_codes") or []) if str(c).strip()]
    if level not in service.LEVELS or not codes:
        raise service.SurveyError("请选择范围级别并填写至少一个辖区编码（如 HX-YYL-YJ）")
    found = await repo.ids_for_codes(session, level, codes)
    missing = [c for c in codes if c.upper() not in found]
    if missing:
        raise service.SurveyError("找不到这些辖区编码：" + "、".join(missing))
    areas = await repo.expand_scope(session, level, list(found.values()))
    if not areas or not all(can_see_community(user.scope, c) for c, _ in areas):
        raise web.HTTPForbidden()
    try:
        opens_at, closes_at = when(data.get("opens_at")), when(data.get("closes_at"))
    except ValueError:
        raise service.SurveyError("开始和截止时间格式应为 2026-12-01T09:00") from None
    try:
        quota = int(data["quota_per_estate"]) if data.get("quota_per_estate") not in (None, "") else None
        reminders = int(data.get("reminders_max", 2) if data.get("reminders_max") not in (None, "") else 2)
        gap = int(data.get("reminder_gap_hours", 48) if data.get("reminder_gap_hours") not in (None, "") else 48)
    except (TypeError, ValueError):
        raise service.SurveyError("样本上限、提醒次数和间隔须为整数") from None
    return await service.create(
        session, template=str(data.get("template") or ""), subject=data.get("subject"),
        subject_type=data.get("subject_type") or None, title=data.get("title") or None, scope_level=level,
        scope_ids=list(found.values()), opens_at=opens_at, closes_at=closes_at, created_by=created_by,
        now=user.now, owners_only=bool(data.get("owners_only", True)),
        per_household=bool(data.get("per_household", True)), quota_per_estate=quota, reminders_max=reminders,
        reminder_gap_hours=gap, questions=data.get("questions"))
