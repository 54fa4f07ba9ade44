"""Notices' life cycle: draft, approve (publish now or schedule), the scheduled sweep, correct, withdraw.

Every function takes the caller's session (never commits) and an `Actor` (who acts, at which level, over which
communities). Publishing hands the version to the delivery engine (`create_broadcast`, category notice or meeting,
scope = the notice's scope, link = its public page), so muted residents are skipped and nobody outside the scope is
reached. A correction adds a version and tells the residents who were sent an earlier one. Errors raise
`NoticeError` (422), `Forbidden` (403) or `NotFound` (404) with a Chinese message.

`publish_system_notice` is for other features (survey results): create and publish at once.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import errors
from bot.delivery import Content, Scope, create_broadcast
from bot.localtime import LOCAL_TZ
from bot.settings import Settings
from handlers.console.authz import load_scope
from handlers.notices import rules
from storage.models import Community, District, Estate, Staff, StaffLevel, Street
from storage.notice_models import Notice, NoticeVersion
from storage.repositories import broadcasts
from storage.repositories import notices as repo


class NoticeError(errors.Invalid):
    """A notice or meeting request the rules refuse (422 unless a subclass says otherwise)."""


class Forbidden(NoticeError, errors.Forbidden):
    status = 403
    code = "forbidden"


class NotFound(NoticeError, errors.NotFound):
    status = 404
    code = "not_found"


@dataclass(frozen=True)
class Actor:
    """Who acts: `name` is recorded ("staff:wang", "system:surveys"); `communities` None = every community."""

    name: str
    level: StaffLevel
    staff_id: int | None = None
    communities: frozenset[int] | None = None
    system: bool = False

    def covers(self, communities: set[int], scope_level: str) -> bool:
        if self.communities is None:
            return True
        return scope_level != "all" and bool(communities) and communities <= self.communities


def system_actor(name: str) -> Actor:
    return Actor(name[:64], StaffLevel.admin, system=True)


def link(base_url: str, notice: Notice) -> str:
    return f"{base_url.rstrip('/')}/n/{notice.public_id}"


def _tables(raw: list | None) -> list[rules.Table]:
    try:
        return [rules.table_from(t, f"表格{i}") for i, t in enumerate(raw or [], 1)]
    except rules.TableError as exc:
        raise NoticeError(str(exc)) from None


def _text(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise NoticeError("请填写标题")
    if len(title) > 128:
        raise NoticeError("标题不能超过 128 个字")
    if len(body) > 50_000:
        raise NoticeError("正文不能超过 5 万字")
    return title, body


async def _scope(session: AsyncSession, actor: Actor, level: str, ids: list[int]) -> list[tuple[int, int | None]]:
    if level not in rules.SCOPE_LEVELS:
        raise NoticeError("范围层级应为 " + " / ".join(rules.SCOPE_LEVELS) + " 之一")
    try:
        pairs = await repo.resolve_targets(session, level, ids)
    except ValueError as exc:
        raise NoticeError(str(exc)) from None
    if level != "all" and not pairs:
        raise NoticeError("所选范围内没有社区")
    if not actor.covers({c for c, _ in pairs}, level):
        raise Forbidden("只能在本辖区内发布公示" if level != "all" else "全市公示只能由管理员发布")
    return pairs


async def default_publisher(session: AsyncSession, level: str, ids: list[int]) -> str:
    if level == "all" or len(ids) != 1:
        names = await repo.scope_names(session, level, ids)
        return ("、".join(names[:3]) + ("等" if len(names) > 3 else "")) or "邻里社区服务平台"
    row = await session.get({"estate": Estate, "community": Community, "street": Street, "district": District}[level],
                            ids[0])
    if level == "estate":
        row = await session.get(Community, row.community_id)
        level = "community"
    return row.name + {"community": "居民委员会", "street": "办事处", "district": ""}[level]


async def create_draft(session: AsyncSession, actor: Actor, *, category: str, title: str, body: str,
                       scope_level: str, scope_ids: list[int], tables: list | None = None,
                       roles: list[str] | None = None, publisher: str | None = None,
                       publish_at: datetime | None = None, source: str | None = None, now: datetime) -> Notice:
    if category not in rules.CATEGORIES:
        raise NoticeError("类别应为 " + "、".join(rules.CATEGORIES.values()) + " 之一")
    title, body = _text(title, body)
    parsed = _tables(tables)
    roles = _roles(roles)
    _check_time(publish_at)
    ids = sorted({int(i) for i in scope_ids or []})
    pairs = await _scope(session, actor, scope_level, ids)
    notice = Notice(public_id=secrets.token_urlsafe(16), category=category, state="draft", scope_level=scope_level,
                    scope_ids=ids, roles=roles, author=actor.name, author_staff_id=actor.staff_id, version=1,
                    source=source, publish_at=publish_at, created_at=now, updated_at=now,
                    publisher=(publisher or "").strip()[:128] or await default_publisher(session, scope_level, ids),
                    versions=[_version(1, title, body, parsed, actor, now)])
    session.add(notice)
    await session.flush()
    await repo.set_targets(session, notice, pairs)
    await session.flush()
    return notice


def _roles(roles: list[str] | None) -> list[str]:
    roles = sorted(set(roles or []))
    if any(r not in rules.ROLES for r in roles):
        raise NoticeError("对象应为 owner（业主）或 tenant（租户）")
    return [] if len(roles) == len(rules.ROLES) else roles


def _check_time(when: datetime | None) -> None:
    if when is not None and when.tzinfo is None:
        raise NoticeError("发布时间须带时区")


def _version(number: int, title: str, body: str, tables: list[rules.Table], actor: Actor, now: datetime,
             note: str | None = None) -> NoticeVersion:
    return NoticeVersion(version=number, title=title, body=body,
                         tables=[t.as_json() for t in tables], summary=rules.summary(body, tables), note=note,
                         created_by=actor.name, created_at=now)


def current(notice: Notice) -> NoticeVersion:
    return next(v for v in notice.versions if v.version == notice.version)


async def load(session: AsyncSession, notice_id: int, actor: Actor | None = None) -> Notice:
    """The notice, or NotFound (also when it lies outside the actor's jurisdiction: ids tell nothing)."""
    notice = await repo.get(session, notice_id)
    if notice is None or (actor is not None and not await may_see(session, actor, notice)):
        raise NotFound("公示不存在或不在您的辖区内")
    return notice


async def may_see(session: AsyncSession, actor: Actor, notice: Notice) -> bool:
    if actor.communities is None:
        return True
    covered = await repo.covered_communities(session, notice.id)
    if notice.state in rules.LIVE + ("withdrawn",):
        return notice.scope_level == "all" or bool(covered & actor.communities)
    return actor.covers(covered, notice.scope_level)


async def _may_approve(session: AsyncSession, actor: Actor, notice: Notice, *, four: bool,
                       written_by: str | None = None) -> None:
    """Forbidden unless `actor` may approve the text `written_by` wrote (default: the notice's author)."""
    covered = await repo.covered_communities(session, notice.id)
    problem = rules.approval_problem(
        level=actor.level, is_author=actor.name == (written_by or notice.author), category=notice.category,
        scope_level=notice.scope_level, in_jurisdiction=actor.covers(covered, notice.scope_level),
        four_eyes=four, system=actor.system, exempt=rules.four_eyes_exempt(notice.category, notice.source))
    if problem:
        raise Forbidden(problem)


def _require(action: str, notice: Notice) -> None:
    problem = rules.state_problem(action, notice.state)
    if problem:
        raise NoticeError(problem)


async def edit_draft(session: AsyncSession, actor: Actor, notice: Notice, *, title: str, body: str,
                     tables: list | None, scope_level: str, scope_ids: list[int], roles: list[str] | None = None,
                     publisher: str | None = None, publish_at: datetime | None = None, now: datetime) -> Notice:
    _require("edit", notice)
    if not actor.covers(await repo.covered_communities(session, notice.id), notice.scope_level):
        raise Forbidden("只能修改本辖区的公示")
    title, body = _text(title, body)
    parsed, roles = _tables(tables), _roles(roles)
    _check_time(publish_at)
    ids = sorted({int(i) for i in scope_ids or []})
    pairs = await _scope(session, actor, scope_level, ids)
    draft = current(notice)
    draft.title, draft.body, draft.tables = title, body, [t.as_json() for t in parsed]
    draft.summary = rules.summary(body, parsed)
    notice.scope_level, notice.scope_ids, notice.roles, notice.publish_at = scope_level, ids, roles, publish_at
    if publisher is not None and publisher.strip():
        notice.publisher = publisher.strip()[:128]
    notice.updated_at = now
    await repo.set_targets(session, notice, pairs)
    await session.flush()
    return notice


async def submit(session: AsyncSession, actor: Actor, notice: Notice, *, now: datetime) -> Notice:
    """提交审核: put a draft in the 待审核 queue of the staff who may approve it (another person, four eyes)."""
    _require("submit", notice)
    if not actor.covers(await repo.covered_communities(session, notice.id), notice.scope_level):
        raise Forbidden("只能提交本辖区的公示")
    if notice.submitted_at is not None:
        raise NoticeError(f"该草稿已于{_local(notice.submitted_at)}提交审核，正在等待审核")
    notice.submitted_at, notice.submitted_by, notice.updated_at = now, actor.name[:64], now
    await session.flush()
    return notice


def _local(when: datetime) -> str:
    return when.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


async def reviewers(session: AsyncSession, notice: Notice) -> list[Staff]:
    """The active staff who may approve this draft (not its author): whom the 待审核 push goes to."""
    covered = await repo.covered_communities(session, notice.id)
    needed = rules.required_level(notice.category, notice.scope_level)
    levels = [level for level, rank in rules.RANK.items() if rank >= rules.RANK[needed]]
    found = []
    for staff in (await session.scalars(select(Staff).where(Staff.active.is_(True), Staff.level.in_(levels))
                                        .order_by(Staff.id).limit(500))):
        scope = await load_scope(session, staff)
        who = Actor(f"staff:{staff.username}"[:64], staff.level, staff.id, scope.community_ids)
        if rules.reviewer_problem(level=staff.level, name=who.name, author=notice.author, category=notice.category,
                                  scope_level=notice.scope_level,
                                  in_jurisdiction=who.covers(covered, notice.scope_level)) is None:
            found.append(staff)
    return found


async def approve(session: AsyncSession, actor: Actor, notice: Notice, *, now: datetime, base_url: str,
                  publish_at: datetime | None = None, four: bool = True) -> Notice:
    """Approve a draft: published now, or scheduled when its publication time lies ahead."""
    _require("approve", notice)
    await _may_approve(session, actor, notice, four=four)
    _check_time(publish_at)
    when = publish_at or notice.publish_at
    notice.approver, notice.updated_at = actor.name, now
    draft = current(notice)
    draft.approved_by, draft.approved_at = actor.name, now
    if when is not None and when > now:
        notice.state, notice.publish_at = "scheduled", when
        return notice
    await _go_live(session, notice, now, base_url, actor.name)
    return notice


async def _go_live(session: AsyncSession, notice: Notice, now: datetime, base_url: str, by: str) -> None:
    notice.state, notice.published_at, notice.updated_at = "published", now, now
    version = current(notice)
    version.published_at = now
    broadcast = await _broadcast(session, notice, version, now, base_url, by,
                                 Scope(notice.scope_level, list(notice.scope_ids), list(notice.roles)))
    version.broadcast_id = broadcast.id


async def _broadcast(session, notice: Notice, version: NoticeVersion, now: datetime, base_url: str, by: str,
                     scope: Scope, *, correction: bool = False):
    label = rules.CATEGORIES[notice.category]
    title = ("【更正】" if correction else "") + version.title
    lead = f"更正说明：{version.note}\n" if correction and version.note else ""
    text = f"{lead}{version.summary}\n{label} · 发布：{notice.publisher}"
    return await create_broadcast(
        session, category=rules.delivery_category(notice.category), scope=scope,
        content=Content(text=text, title=title[:128], summary=version.summary, link=link(base_url, notice)),
        created_by=by[:64], source=f"{repo.source_prefix(notice.id)}v{version.version}", now=now)


async def publish_due(session: AsyncSession, now: datetime, base_url: str) -> list[int]:
    """The sweep: publish every scheduled notice whose time has come (a conditional UPDATE claims each one, so
    two runs never publish twice)."""
    published = []
    for notice_id in await repo.due_scheduled(session, now):
        if not await repo.claim_scheduled(session, notice_id, now):
            continue
        notice = await repo.get(session, notice_id)
        await _go_live(session, notice, now, base_url, notice.approver or "system:schedule")
        published.append(notice_id)
    await session.flush()
    return published


def pending_correction(notice: Notice) -> NoticeVersion | None:
    """The correction waiting for its second person, if any (a version after the current one, not published)."""
    return next((v for v in notice.versions if v.version > notice.version and v.published_at is None), None)


async def correct(session: AsyncSession, actor: Actor, notice: Notice, *, title: str, body: str,
                  tables: list | None, note: str, now: datetime, base_url: str, four: bool = True) -> NoticeVersion:
    """Write a corrected version. Where the category needs a second person, it waits (unpublished) until another
    staff member approves it (`approve_correction`); otherwise it is published at once. The record names who
    wrote and who approved each version, so no one's name stands under a text they never saw."""
    _require("correct", notice)
    await _may_approve(session, actor, notice, four=False)
    if pending_correction(notice) is not None:
        raise errors.Conflict("已有一份更正在等待审核，请先审核或撤回它")
    title, body = _text(title, body)
    note = (note or "").strip()
    if not note:
        raise NoticeError("请说明更正的内容和原因")
    version = _version(notice.version + 1, title, body, _tables(tables), actor, now, note[:256])
    notice.versions.append(version)
    notice.updated_at = now
    await session.flush()
    needs_second = four and not actor.system and not rules.four_eyes_exempt(notice.category, notice.source)
    if not needs_second:
        await _publish_correction(session, actor, notice, version, now, base_url)
    return version


async def approve_correction(session: AsyncSession, actor: Actor, notice: Notice, *, now: datetime, base_url: str,
                             four: bool = True) -> NoticeVersion:
    """A second staff member approves the waiting correction: it is published and those told before are told."""
    _require("correct", notice)
    version = pending_correction(notice)
    if version is None:
        raise errors.Conflict("没有等待审核的更正")
    await _may_approve(session, actor, notice, four=four, written_by=version.created_by)
    await _publish_correction(session, actor, notice, version, now, base_url)
    return version


async def discard_correction(session: AsyncSession, actor: Actor, notice: Notice, *, now: datetime) -> None:
    """Drop the waiting correction (its writer or anyone who may approve it)."""
    version = pending_correction(notice)
    if version is None:
        raise errors.Conflict("没有等待审核的更正")
    await _may_approve(session, actor, notice, four=False)
    notice.versions.remove(version)
    notice.updated_at = now
    await session.flush()


async def _publish_correction(session: AsyncSession, actor: Actor, notice: Notice, version: NoticeVersion,
                              now: datetime, base_url: str) -> None:
    """Publish a corrected version; residents who were sent an earlier one are told (if the earlier one is still
    being sent, it is stopped and the corrected version goes to the whole scope instead)."""
    version.published_at, version.approved_by, version.approved_at = now, actor.name, now
    notice.version, notice.state, notice.updated_at = version.version, "corrected", now
    notice.approver = actor.name
    await session.flush()
    unfinished = [b for b in await repo.broadcasts_of(session, notice.id) if b.status in ("scheduled", "sending",
                                                                                           "paused")]
    for b in unfinished:
        await broadcasts.cancel(session, b.id)
    if unfinished:
        scope = Scope(notice.scope_level, list(notice.scope_ids), list(notice.roles))
    else:
        told = await repo.recipients_of(session, notice.id)
        version.recipients = len(told)
        scope = Scope.of_residents(told) if told else None
    if scope is not None:  # an empty resident list would mean "everyone": never send it
        version.broadcast_id = (await _broadcast(session, notice, version, now, base_url, actor.name, scope,
                                                 correction=True)).id


async def withdraw(session: AsyncSession, actor: Actor, notice: Notice, *, reason: str, now: datetime) -> Notice:
    """Withdraw: residents no longer see it; its page says it was withdrawn and why; unsent pushes stop."""
    _require("withdraw", notice)
    await _may_approve(session, actor, notice, four=False)
    reason = (reason or "").strip()
    if not reason:
        raise NoticeError("请填写撤回原因")
    for b in await repo.broadcasts_of(session, notice.id):
        await broadcasts.cancel(session, b.id)
    notice.state, notice.withdrawn_at, notice.withdraw_reason = "withdrawn", now, reason[:256]
    notice.updated_at = now
    return notice


async def publish_system_notice(session: AsyncSession, *, category: str, title: str, body: str, scope_level: str,
                                scope_ids: list[int], author: str, source: str, tables: list | None = None,
                                now: datetime, settings: Settings | None = None) -> Notice:
    """Create and publish at once on behalf of a feature (e.g. survey results). Pass `settings` for the link's
    base URL (default: the environment's LINLI_PUBLIC_URL)."""
    settings = settings or Settings.from_env()
    actor = system_actor(author)
    notice = await create_draft(session, actor, category=category, title=title, body=body, scope_level=scope_level,
                                scope_ids=scope_ids, tables=tables, source=source, now=now)
    return await approve(session, actor, notice, now=now, base_url=settings.base_url)
