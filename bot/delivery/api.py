"""JSON API for the console under /api/v1/broadcasts (authentication is the console's middleware's job):

    GET  /api/v1/broadcasts?limit=&offset=      newest first
    GET  /api/v1/broadcasts/{id}                 the broadcast with counts by status and reason, progress, rate, ETA
    POST /api/v1/broadcasts                      {"category", "scope": {"level", "ids"|"codes", "roles",
                                                  "residents"}, "content": {"text", "title", "summary", "link"},
                                                  "send_at"?: ISO 8601 with offset, "created_by"?} → 201
    POST /api/v1/broadcasts/{id}/retry-failed    re-queue failures → {"requeued": n}
Errors answer `{"error": <中文说明>}` with 400 or 404.
"""
from __future__ import annotations

import json
from datetime import datetime

from aiohttp import web

from bot.context import Services
from bot.delivery import outbox, progress
from bot.delivery.channels import Content

PREFIX = "/api/v1/broadcasts"


def _json(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["id"])
    except ValueError:
        return None


def setup_routes(app: web.Application, services: Services) -> None:
    db = services.db

    async def list_(request: web.Request) -> web.Response:
        try:
            limit = min(200, int(request.query.get("limit", 50)))
            offset = max(0, int(request.query.get("offset", 0)))
        except ValueError:
            return _error(400, "limit 和 offset 应为整数")
        async with db.transaction() as session:
            return _json({"broadcasts": await progress.listing(session, limit, offset)})

    async def one(request: web.Request) -> web.Response:
        broadcast_id = _id(request)
        async with db.transaction() as session:
            rep = await progress.report(session, broadcast_id, services.clock()) if broadcast_id else None
        return _json(rep) if rep else _error(404, "没有这条群发")

    async def create(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return _error(400, "请求体须为 JSON 对象")
        try:
            async with db.transaction() as session:
                broadcast = await _create(session, body, services.clock())
                broadcast_id = broadcast.id
            async with db.transaction() as session:
                return _json(await progress.report(session, broadcast_id, services.clock()), 201)
        except (ValueError, TypeError, KeyError) as exc:
            return _error(400, f"群发内容有误：{exc}")

    async def retry(request: web.Request) -> web.Response:
        broadcast_id = _id(request)
        async with db.transaction() as session:
            if broadcast_id is None or await progress.report(session, broadcast_id, services.clock()) is None:
                return _error(404, "没有这条群发")
            count = await outbox.retry_failed(session, broadcast_id, services.clock())
        return _json({"requeued": count})

    app.router.add_get(PREFIX, list_)
    app.router.add_post(PREFIX, create)
    app.router.add_get(PREFIX + "/{id}", one)
    app.router.add_post(PREFIX + "/{id}/retry-failed", retry)


async def _create(session, body: dict, now: datetime):
    raw_scope = body.get("scope") or {}
    if raw_scope.get("codes"):
        scope = await outbox.scope_from_codes(session, raw_scope.get("level", "all"), list(raw_scope["codes"]),
                                              raw_scope.get("roles"))
    else:
        scope = outbox.Scope(raw_scope.get("level", "all"), [int(i) for i in raw_scope.get("ids") or []],
                             list(raw_scope.get("roles") or []), [int(i) for i in raw_scope.get("residents") or []])
    c = body.get("content") or {}
    content = Content(str(c.get("text") or ""), c.get("title"), c.get("summary"), c.get("link"))
    send_at = datetime.fromisoformat(body["send_at"]) if body.get("send_at") else None
    return await outbox.create_broadcast(session, category=str(body.get("category") or ""), scope=scope,
                                         content=content, created_by=str(body.get("created_by") or "api")[:64],
                                         send_at=send_at, now=now)
