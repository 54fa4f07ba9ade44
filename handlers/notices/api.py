"""JSON API for notices and meetings under /api/v1 (documented in handlers/notices/openapi.yaml).

Same service calls and jurisdiction as the pages: 404 for objects outside it, 403 for scopes outside it,
422 with a Chinese message for invalid input or a state that does not allow the action.
"""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.delivery import outbox, progress
from handlers.console.api import json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.toolkit import paging, path_id
from handlers.notices import rules, service
from handlers.notices.console import _base, _four, actor_of, communities
from handlers.notices.service import NoticeError
from storage.repositories import notices as repo


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def notice_json(notice, version, base_url: str) -> dict:
    return {"id": notice.id, "public_id": notice.public_id, "url": service.link(base_url, notice),
            "category": notice.category, "category_label": rules.CATEGORIES[notice.category],
            "state": notice.state, "scope": {"level": notice.scope_level, "ids": list(notice.scope_ids),
                                             "roles": list(notice.roles)},
            "publisher": notice.publisher, "author": notice.author, "approver": notice.approver,
            "version": notice.version, "title": version.title, "summary": version.summary,
            "publish_at": _iso(notice.publish_at), "published_at": _iso(notice.published_at),
            "withdrawn_at": _iso(notice.withdrawn_at), "withdraw_reason": notice.withdraw_reason,
            "submitted_at": _iso(notice.submitted_at), "submitted_by": notice.submitted_by,
            "created_at": _iso(notice.created_at), "updated_at": _iso(notice.updated_at)}


def table_json(raw: dict) -> dict:
    table = rules.table_from(raw)
    return {**table.as_json(), "totals": [None if s is None else str(s) for s in rules.totals(table)]}


async def detail_json(session, notice, base_url: str, now: datetime) -> dict:
    versions = []
    for v in notice.versions:
        rep = await progress.report(session, v.broadcast_id, now) if v.broadcast_id else None
        versions.append({"version": v.version, "title": v.title, "body": v.body, "summary": v.summary,
                         "tables": [table_json(t) for t in v.tables or []], "note": v.note,
                         "created_by": v.created_by, "created_at": _iso(v.created_at),
                         "published_at": _iso(v.published_at), "recipients": v.recipients,
                         "approved_by": v.approved_by, "approved_at": _iso(v.approved_at),
                         "pending": v.published_at is None and v.version > notice.version,
                         "delivery": None if rep is None else {"broadcast_id": rep["id"], "status": rep["status"],
                                                               "total": rep["total"], **rep["counts"]}})
    return {**notice_json(notice, service.current(notice), base_url), "versions": versions}


async def _notice(request: web.Request):
    """The notice in the path; 404 when absent or outside the jurisdiction (service.NotFound)."""
    return await service.load(db(request), path_id(request, "notice_id"), actor_of(request))


def _when(raw) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise NoticeError("时间应为 ISO 8601 格式，例如 2026-11-21T08:00:00+08:00") from None
    if value.tzinfo is None:
        raise NoticeError("时间须带时区，例如 +08:00")
    return value


async def _scope(session, body: dict) -> tuple[str, list[int]]:
    raw = body.get("scope")
    if not isinstance(raw, dict):
        raise NoticeError("请给出 scope：{level, ids 或 codes}")
    level = str(raw.get("level", ""))
    if raw.get("codes"):
        try:
            return level, (await outbox.scope_from_codes(session, level, [str(c) for c in raw["codes"]])).ids
        except ValueError as exc:
            raise NoticeError(str(exc)) from None
    try:
        return level, [int(i) for i in raw.get("ids") or []]
    except (TypeError, ValueError):
        raise NoticeError("scope.ids 应为整数列表") from None


def _fields(body: dict) -> dict:
    tables = body.get("tables") or []
    roles = body.get("roles") or []
    if not isinstance(tables, list) or not isinstance(roles, list):
        raise NoticeError("tables 和 roles 应为列表")
    return dict(title=str(body.get("title") or ""), body=str(body.get("body") or ""), tables=tables, roles=roles,
                publisher=body.get("publisher"), publish_at=_when(body.get("publish_at")))


@require_staff()
async def list_notices(request: web.Request) -> web.Response:
    page = paging(request)
    rows, total = await repo.staff_list(db(request), communities(request), state=request.query.get("state"),
                                        category=request.query.get("category"), limit=page.limit,
                                        offset=page.offset)
    return json_response({"items": [notice_json(n, v, _base(request)) for n, v in rows], "total": total})


@require_staff()
async def create_notice(request: web.Request) -> web.Response:
    body, session, user = await read_json(request), db(request), current(request)
    level, ids = await _scope(session, body)
    notice = await service.create_draft(session, actor_of(request), category=str(body.get("category") or ""),
                                        scope_level=level, scope_ids=ids, now=user.now, **_fields(body))
    await audit(session, user, "notice.create", f"公示 {notice.id}", request)
    return json_response(await detail_json(session, notice, _base(request), user.now), 201)


@require_staff()
async def get_notice(request: web.Request) -> web.Response:
    notice = await _notice(request)
    return json_response(await detail_json(db(request), notice, _base(request), current(request).now))


@require_staff()
async def edit_notice(request: web.Request) -> web.Response:
    notice, body, session, user = await _notice(request), await read_json(request), db(request), current(request)
    level, ids = await _scope(session, body)
    await service.edit_draft(session, actor_of(request), notice, scope_level=level, scope_ids=ids, now=user.now,
                             **_fields(body))
    await audit(session, user, "notice.edit", f"公示 {notice.id}", request)
    return json_response(await detail_json(session, notice, _base(request), user.now))


async def _action(request: web.Request, action: str, work) -> web.Response:
    notice, session, user = await _notice(request), db(request), current(request)
    body = await read_json(request) if request.body_exists else {}
    await work(notice, body, session, user)
    await audit(session, user, action, f"公示 {notice.id}", request)
    return json_response(await detail_json(session, notice, _base(request), user.now))


@require_staff()
async def approve_notice(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        await service.approve(session, actor_of(request), notice, now=user.now, base_url=_base(request),
                              publish_at=_when(body.get("publish_at")), four=_four(request))
    return await _action(request, "notice.approve", work)


@require_staff()
async def submit_notice(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        from handlers.notices.jobs import tell_reviewers

        await service.submit(session, actor_of(request), notice, now=user.now)
        await tell_reviewers(session, notice, base_url=_base(request), now=user.now)
    return await _action(request, "notice.submit", work)


@require_staff()
async def correct_notice(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        f = _fields(body)
        await service.correct(session, actor_of(request), notice, title=f["title"], body=f["body"],
                              tables=f["tables"], note=str(body.get("note") or ""), now=user.now,
                              base_url=_base(request), four=_four(request))
    return await _action(request, "notice.correct", work)


@require_staff()
async def approve_correction(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        await service.approve_correction(session, actor_of(request), notice, now=user.now, base_url=_base(request),
                                         four=_four(request))
    return await _action(request, "notice.correction_approve", work)


@require_staff()
async def discard_correction(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        await service.discard_correction(session, actor_of(request), notice, now=user.now)
    return await _action(request, "notice.correction_discard", work)


@require_staff()
async def withdraw_notice(request: web.Request) -> web.Response:
    async def work(notice, body, session, user):
        await service.withdraw(session, actor_of(request), notice, reason=str(body.get("reason") or ""), now=user.now)
    return await _action(request, "notice.withdraw", work)


@max_body(2 * 1024 * 1024)
@require_staff()
async def import_table(request: web.Request) -> web.Response:
    notice, session, user = await _notice(request), db(request), current(request)
    table = rules.table_from_csv(rules.decode_upload(await request.read()), request.query.get("title", ""))
    version = service.current(notice)
    await service.edit_draft(session, actor_of(request), notice, title=version.title, body=version.body,
                             tables=list(version.tables) + [table.as_json()], scope_level=notice.scope_level,
                             scope_ids=list(notice.scope_ids), roles=list(notice.roles),
                             publish_at=notice.publish_at, now=user.now)
    await audit(session, user, "notice.import", f"公示 {notice.id}", request)
    return json_response(await detail_json(session, notice, _base(request), user.now))


def register(registry) -> None:
    from handlers.notices import api_meetings

    registry.api("GET", "/notices", list_notices)
    registry.api("POST", "/notices", create_notice)
    registry.api("GET", "/notices/{notice_id}", get_notice)
    registry.api("PUT", "/notices/{notice_id}", edit_notice)
    registry.api("POST", "/notices/{notice_id}/submit", submit_notice)
    registry.api("POST", "/notices/{notice_id}/approve", approve_notice)
    registry.api("POST", "/notices/{notice_id}/correct", correct_notice)
    registry.api("POST", "/notices/{notice_id}/correction/approve", approve_correction)
    registry.api("POST", "/notices/{notice_id}/correction/discard", discard_correction)
    registry.api("POST", "/notices/{notice_id}/withdraw", withdraw_notice)
    registry.api("POST", "/notices/{notice_id}/tables", import_table)
    api_meetings.register(registry)

