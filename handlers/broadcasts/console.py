"""Console pages, dashboard panel and JSON API for broadcasts (the delivery engine's outbox).

    GET  /api/v1/broadcasts                     newest first, only those inside the caller's jurisdiction
    GET  /api/v1/broadcasts/{id}                 counts by status and reason, progress, rate, ETA
    POST /api/v1/broadcasts                      send to a scope inside the jurisdiction (created_by = the caller)
    POST /api/v1/broadcasts/{id}/retry-failed    re-queue failures
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.delivery import outbox, progress
from bot.delivery.channels import Content
from bot.errors import DomainError
from handlers.broadcasts import compose
from handlers.broadcasts.reach import check_residents, may_reach, may_see
from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import fmt_time, render, staff_names_for
from handlers.console.toolkit import paging, path_id
from storage.delivery_models import Broadcast

HERE = Path(__file__).parent
RUNNING = ("scheduled", "sending", "paused")
CATEGORY_LABELS = {"notice": "公示", "meeting": "会议纪要", "survey": "满意度调查", "ticket": "投诉进度"}
# what a broadcast's `source` says it came from; a 咨询答复 (转人工 answered) is not a complaint's progress
SOURCE_LABELS = {"inquiry": "咨询答复", "ticket": "投诉进度", "notice": "公示", "notice-review": "公示审核提醒",
                 "meeting": "会议纪要", "meeting-reminder": "联席会议提醒", "meeting-missing": "联席会议提醒",
                 "survey": "满意度调查", "report": "月度报告"}


def category_label(b: dict) -> str:
    """The category shown to staff: by the broadcast's source where it says more than the delivery category."""
    source = b.get("source") or ""
    if source.startswith("ticket:") and source.endswith(":staff"):
        return "工单提醒"
    return SOURCE_LABELS.get(source.split(":", 1)[0]) or CATEGORY_LABELS.get(b["category"], b["category"])
REASON_LABELS = {"muted": "居民退订了这一类推送", "not_following": "居民已取消关注", "resident_gone": "居民已删除个人信息",
                 "no_channel": "没有可用的发送方式（48 小时内无互动且未订阅）", "refused": "居民拒收", "user_block": "居民拒收",
                 "unreachable": "微信接口暂时无法访问", "system_busy": "微信系统繁忙", "system_failed": "微信发送失败",
                 "job_failed": "微信发送失败", "daily_quota": "超出当日发送额度", "invalid_openid": "居民账号无效"}
STATUS_LABELS = {"scheduled": "待发送", "sending": "发送中", "paused": "已暂停", "done": "已完成",
                 "cancelled": "已取消"}


async def _visible(request: web.Request, limit: int, offset: int = 0, statuses=None) -> list[Broadcast]:
    """Newest broadcasts the caller may see (filtered in pages of the outbox, newest first)."""
    session, staff = db(request), current(request).scope
    found: list[Broadcast] = []
    cursor = None
    while len(found) < offset + limit:
        query = select(Broadcast).order_by(Broadcast.id.desc()).limit(200)
        if cursor is not None:
            query = query.where(Broadcast.id < cursor)
        if statuses:
            query = query.where(Broadcast.status.in_(statuses))
        batch = list(await session.scalars(query))
        if not batch:
            break
        found += [b for b in batch if may_see(staff, b)]
        cursor = batch[-1].id
    return found[offset:offset + limit]


async def _one(request: web.Request) -> Broadcast:
    broadcast = await db(request).get(Broadcast, path_id(request, "broadcast_id"))
    if broadcast is None or not may_see(current(request).scope, broadcast):
        raise web.HTTPNotFound()  # outside the jurisdiction looks the same as absent
    return broadcast


@require_staff()
async def api_list(request: web.Request) -> web.Response:
    page = paging(request)
    return json_response({"broadcasts": [progress.describe(b) for b in await _visible(request, page.limit, page.offset)]})


@require_staff()
async def api_one(request: web.Request) -> web.Response:
    broadcast = await _one(request)
    return json_response(await progress.report(db(request), broadcast.id, current(request).now))


@require_staff()
async def api_create(request: web.Request) -> web.Response:
    body, user, session = await read_json(request), current(request), db(request)
    try:
        scope = await _scope(session, body.get("scope") or {})
        await check_residents(session, user.scope, scope.residents)
        if not may_reach(user.scope, await outbox.reach_of(session, scope)):
            return json_error(403, "只能向本辖区的居民群发")
        c = body.get("content") or {}
        send_at = datetime.fromisoformat(body["send_at"]) if body.get("send_at") else None
        broadcast = await outbox.create_broadcast(
            session, category=str(body.get("category") or ""), scope=scope,
            content=Content(str(c.get("text") or ""), c.get("title"), c.get("summary"), c.get("link")),
            created_by=f"staff:{user.staff.username}"[:64], send_at=send_at, now=user.now)
    except DomainError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        return json_error(422, f"群发内容有误：{exc}")
    await audit(session, user, "broadcast.create", f"群发 {broadcast.id}", request)
    return json_response(await progress.report(session, broadcast.id, user.now), 201)


async def _scope(session, raw: dict) -> outbox.Scope:
    if raw.get("codes"):
        return await outbox.scope_from_codes(session, raw.get("level", "all"), list(raw["codes"]), raw.get("roles"))
    return outbox.Scope(raw.get("level", "all"), [int(i) for i in raw.get("ids") or []],
                        list(raw.get("roles") or []), [int(i) for i in raw.get("residents") or []])


@require_staff()
async def api_retry(request: web.Request) -> web.Response:
    broadcast, user = await _one(request), current(request)
    count = await outbox.retry_failed(db(request), broadcast.id, user.now)
    await audit(db(request), user, "broadcast.retry", f"群发 {broadcast.id}", request)
    return json_response({"requeued": count})


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    found = await _visible(request, 50)
    rows = [{**progress.describe(b), "send_at_local": fmt_time(b.send_at), "category_label":
             category_label(progress.describe(b))} for b in found]
    return render(request, "broadcasts/list.html", title="群发", rows=rows, categories=CATEGORY_LABELS,
                  statuses=STATUS_LABELS, staff_names=await staff_names_for(db(request), [b.created_by for b in found]))


@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    broadcast = await _one(request)
    rep = await progress.report(db(request), broadcast.id, current(request).now)
    return render(request, "broadcasts/detail.html", title=f"群发 {broadcast.id}", b=broadcast, rep=rep,
                  categories=CATEGORY_LABELS, statuses=STATUS_LABELS, reason_labels=REASON_LABELS,
                  category=category_label(progress.describe(broadcast)),
                  staff_names=await staff_names_for(db(request), [broadcast.created_by]))


def console(registry) -> None:
    registry.labels({"broadcast.create": "发起群发", "broadcast.retry": "重发失败的群发"})
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("群发", "/console/broadcasts", order=60)
    registry.page("GET", "/broadcasts", list_page)
    registry.page("GET", "/broadcasts/new", compose.compose_page)
    registry.page("POST", "/broadcasts/new", compose.compose_post)
    registry.page("GET", "/broadcasts/{broadcast_id}", detail_page)
    registry.api("GET", "/broadcasts", api_list)
    registry.api("POST", "/broadcasts", api_create)
    registry.api("GET", "/broadcasts/{broadcast_id}", api_one)
    registry.api("POST", "/broadcasts/{broadcast_id}/retry-failed", api_retry)

    @registry.panel("broadcasts", "正在进行的群发", order=SLOTS["broadcasts"], cache_seconds=10)
    async def running(session, user):
        rows = []
        query = select(Broadcast).where(Broadcast.status.in_(RUNNING)).order_by(Broadcast.id.desc()).limit(50)
        for b in await session.scalars(query):
            if may_see(user.scope, b):
                rows.append(await progress.report(session, b.id, user.now))
        for rep in rows:
            rep["category_label"] = category_label(rep)
        return user.fragment("broadcasts/panel.html", rows=rows[:10], categories=CATEGORY_LABELS,
                             statuses=STATUS_LABELS) if rows else None
