"""Campaign life cycle: draft → scheduled → open → closed → published, used by the console, the API, the CLI and
the jobs alike. Every transition is a conditional UPDATE (see storage.repositories.surveys), so running a sweep
twice, late, or on two workers does each thing once.

- `create` builds a campaign from a template (or custom questions) for a subject and a scope; for a property-
  service company or a developer the scope is narrowed to the estates that subject serves or built, so residents
  of other estates cannot rate it.
- `schedule`, `close_now`, `replace_questions` (refused once a vote froze the questions), `publish` (results
  become a notice for the residents in scope, through the notices feature).
- `open_due`, `close_due` (snapshot of eligible counts, drafts dropped): called by `jobs.sweep`.
Invitations and reminders live in `invites.py`, votes in `voting.py`.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from handlers.surveys import invites, messages, rules, stats
from handlers.surveys.templates_builtin import TEMPLATES, build
from storage.models import Developer, Estate, PropertyCompany
from storage.repositories import surveys as repo
from storage.survey_models import SUBJECT_TYPES, Survey

log = logging.getLogger("linli.surveys")
LEVELS = ("estate", "community", "street", "district")
STATUS_LABELS = {"draft": "草稿", "scheduled": "待开始", "open": "进行中", "closed": "已结束", "published": "已公布"}
SUBJECT_MODELS = {"property_company": (PropertyCompany, Estate.property_company_id),
                  "developer": (Developer, Estate.developer_id)}


class SurveyError(DomainError):
    """A request the campaign cannot take (422, or the status given where it is raised); Chinese, for staff."""


async def resolve_subject(session: AsyncSession, subject_type: str, raw: str | int | None) -> tuple[int | None, str]:
    """(subject id, name) from a code, id or exact name; free subjects and management units are just names."""
    if subject_type not in SUBJECT_TYPES:
        raise SurveyError("调查对象类型应为 " + " / ".join(SUBJECT_TYPES) + " 之一")
    text = str(raw or "").strip()
    if not text:
        raise SurveyError("请填写调查对象")
    if subject_type not in SUBJECT_MODELS:
        return None, text[:128]
    model = SUBJECT_MODELS[subject_type][0]
    cond = [model.code == text.upper(), model.name == text] + ([model.id == int(text)] if text.isdigit() else [])
    found = (await session.execute(select(model.id, model.name).where(or_(*cond)))).first()
    if found is None:
        raise SurveyError(f"找不到调查对象「{text}」（可填编码，如 WY-JA）")
    return found[0], found[1]


async def _areas(session: AsyncSession, subject_type: str, subject_id: int | None, level: str,
                 ids: list[int]) -> list[tuple[int, int | None]]:
    areas = await repo.expand_scope(session, level, ids)
    if subject_type not in SUBJECT_MODELS:
        return areas
    column = SUBJECT_MODELS[subject_type][1]
    communities = {c for c, e in areas if e is None}
    estates = {e for _, e in areas if e is not None}
    rows = await session.execute(select(Estate.community_id, Estate.id).where(
        column == subject_id, (Estate.community_id.in_(communities)) | (Estate.id.in_(estates))))
    return [(c, e) for c, e in rows.all()]


async def create(session: AsyncSession, *, template: str, subject: str | int | None, scope_level: str,
                 scope_ids: list[int], opens_at: datetime, closes_at: datetime, created_by: str, now: datetime,
                 title: str | None = None, subject_type: str | None = None, owners_only: bool = True,
                 per_household: bool = True, quota_per_estate: int | None = None, reminders_max: int = 2,
                 reminder_gap_hours: int = 48, questions: list | None = None) -> Survey:
    """A new draft campaign (flushed). Raises SurveyError with a Chinese message on bad input."""
    if template not in TEMPLATES and template != "custom":
        raise SurveyError("模板应为 property / developer / old-estate / custom 之一")
    subject_type = subject_type or (TEMPLATES[template]["subject_type"] if template in TEMPLATES else "free")
    subject_id, subject_name = await resolve_subject(session, subject_type, subject)
    questions = questions if questions is not None else (build(template) if template in TEMPLATES else [])
    problems = rules.validate_questions(questions)
    if scope_level not in LEVELS or not scope_ids:
        problems.append("范围应为 estate / community / street / district 之一，并至少指定一个")
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        problems.append("开始和截止时间须带时区")
    elif closes_at <= opens_at:
        problems.append("截止时间须晚于开始时间")
    elif closes_at <= now:
        problems.append("截止时间已经过去")
    if quota_per_estate is not None and quota_per_estate < 1:
        problems.append("每个小区的样本上限须为正整数")
    if not 0 <= reminders_max <= 5 or not 1 <= reminder_gap_hours <= 24 * 30:
        problems.append("提醒次数应为 0–5 次，间隔 1 小时到 30 天")
    if problems:
        raise SurveyError("；".join(problems))
    areas = await _areas(session, subject_type, subject_id, scope_level, list(scope_ids))
    if not areas:
        raise SurveyError(f"所选范围内没有「{subject_name}」服务或开发的小区" if subject_type in SUBJECT_MODELS
                          else "所选范围内没有社区")
    survey = Survey(title=(title or f"{subject_name}{TEMPLATES.get(template, {}).get('label', '满意度调查')}")[:128],
                    template=template, subject_type=subject_type, subject_id=subject_id, subject_name=subject_name,
                    scope_level=scope_level, scope_ids=list(scope_ids), owners_only=owners_only,
                    per_household=per_household, questions=questions, questions_version=1, frozen=False,
                    status="draft", opens_at=opens_at, closes_at=closes_at, quota_per_estate=quota_per_estate,
                    reminders_max=reminders_max, reminder_gap_hours=reminder_gap_hours, reminders_sent=0,
                    created_by=created_by[:64], created_at=now)
    session.add(survey)
    await session.flush()
    await repo.add_areas(session, survey.id, areas)
    await repo.log(session, survey.id, "created", now, f"{created_by} 创建")
    return survey


async def schedule(session: AsyncSession, survey: Survey, now: datetime) -> None:
    if survey.closes_at <= now:
        raise SurveyError("截止时间已经过去，无法排期", status=409)
    if not await repo.set_status(session, survey.id, ("draft",), "scheduled"):
        raise SurveyError(f"只有草稿可以排期（当前：{STATUS_LABELS[survey.status]}）", status=409)
    await repo.log(session, survey.id, "scheduled", now, f"{messages.local(survey.opens_at)} 开始")
    await session.refresh(survey)


async def replace_questions(session: AsyncSession, survey: Survey, questions: list, now: datetime) -> None:
    problems = rules.validate_questions(questions)
    if problems:
        raise SurveyError("；".join(problems))
    if not await repo.replace_questions(session, survey.id, survey.questions_version, questions):
        raise SurveyError("已有居民作答（或调查已结束），题目不能再修改", status=409)
    await repo.log(session, survey.id, "questions", now, f"第 {survey.questions_version + 1} 版题目")
    await session.refresh(survey)


async def open_due(session: AsyncSession, now: datetime) -> list[int]:
    """Open every scheduled campaign whose time has come and invite its residents."""
    opened = []
    for survey_id in await repo.due(session, "scheduled", Survey.opens_at, now):
        if await repo.set_status(session, survey_id, ("scheduled",), "open", opened_at=now):
            survey = await repo.get(session, survey_id)
            await session.refresh(survey)
            await repo.log(session, survey_id, "opened", now)
            if survey.closes_at > now:
                await invites.invite(session, survey, now)
            opened.append(survey_id)
    return opened


async def _close(session: AsyncSession, survey_id: int, now: datetime, **values) -> bool:
    if not await repo.set_status(session, survey_id, ("open",), "closed", closed_at=now, **values):
        return False
    survey = await repo.get(session, survey_id)
    await session.refresh(survey)
    survey.eligible_snapshot = {str(k): v for k, v in (await stats.eligible_counts(session, survey)).items()}
    await repo.drop_drafts(session, survey_id)
    await repo.log(session, survey_id, "closed", now)
    return True


async def close_due(session: AsyncSession, now: datetime) -> list[int]:
    return [i for i in await repo.due(session, "open", Survey.closes_at, now) if await _close(session, i, now)]


async def close_now(session: AsyncSession, survey: Survey, now: datetime) -> None:
    """Staff end an open campaign before its closing time."""
    if not await _close(session, survey.id, now, closes_at=now):
        raise SurveyError(f"只有进行中的调查可以提前结束（当前：{STATUS_LABELS[survey.status]}）", status=409)
    await session.refresh(survey)


async def publish(session: AsyncSession, survey: Survey, author: str, now: datetime) -> str:
    """Publish the final results as a notice for the residents in scope; returns the notice reference."""
    if survey.status != "closed":
        raise SurveyError(f"只有已结束的调查可以公布结果（当前：{STATUS_LABELS[survey.status]}）", status=409)
    results = await stats.results(session, survey)
    title, body, tables = messages.results_notice(survey, results, results["estate_names"],
                                                  results["community_names"])
    try:
        ref = await invites.announce_results(session, survey, title=title, body=body, tables=tables,
                                             author=author, now=now)
    except ValueError as exc:  # the notices feature refused (its message is Chinese)
        raise SurveyError(f"结果公告未能发布：{exc}", status=409) from None
    if not await repo.set_status(session, survey.id, ("closed",), "published", published_at=now,
                                 published_ref=ref):
        raise SurveyError("调查状态已变化，请刷新后再试", status=409)
    await repo.log(session, survey.id, "published", now, ref)
    await session.refresh(survey)
    return ref


async def list_campaigns(session: AsyncSession, *, statuses=None, community_ids=None, limit: int = 100,
                         offset: int = 0, template: str | None = None) -> list[Survey]:
    stmt = select(Survey).order_by(Survey.id.desc()).limit(limit).offset(offset)
    if statuses:
        stmt = stmt.where(Survey.status.in_(statuses))
    if template:
        stmt = stmt.where(Survey.template == template)
    return list(await session.scalars(repo.visible(stmt, community_ids)))
