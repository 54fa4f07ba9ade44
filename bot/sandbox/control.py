"""The sandbox's control API under `/sandbox/` (JSON), for tests and for driving scenarios by hand.

    POST   /sandbox/interactions  {"openid", "kind": message|click|subscribe|scan|unsubscribe, "at"?: unix ts}
    POST   /sandbox/users         {"openid", "followed"?, "refused_templates"?: [...], "blocks_templates"?}
    GET    /sandbox/messages      ?openid=&after=<id>&kind=custom|template|subscribe
    GET    /sandbox/faults        list;  POST {"endpoint", "latency"?, "errcode"?, "errmsg"?, "drop"?,
                                  "probability"?, "count"?};  DELETE ?endpoint=&id=  (no query: all)
    POST   /sandbox/tokens/revoke every issued access_token becomes invalid (40001)
    POST   /sandbox/media         ?type=image|voice|video|thumb, body: the file (Content-Type as WeChat accepts):
                                  {"media_id"} a resident's message can carry; WeChat's limits, 40004 / 40006
    POST   /sandbox/clock         {"advance": seconds}
    POST   /sandbox/reset         forget users, deliveries, tokens, quota, menu, faults, counters
    GET    /sandbox/stats
    GET    /sandbox/qrcodes       ?ticket=  what scanning that QR code tells the account: {"scene", "action"} (404
                                  for an unknown or expired ticket), to send as SCAN / subscribe qrscene_ events
Bad requests answer 400 with `{"error": <中文说明>}`.
"""
from __future__ import annotations

import json

from aiohttp import web

from bot.sandbox.faults import Fault
from bot.sandbox.hub import SANDBOX

KINDS = ("message", "click", "subscribe", "scan", "unsubscribe")


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}, ensure_ascii=False),
                              content_type="application/json")


async def json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("请求体须为 JSON 对象") from None
    if not isinstance(body, dict):
        raise bad_request("请求体须为 JSON 对象")
    return body


def reply(data) -> web.Response:
    return web.json_response(data, dumps=lambda d: json.dumps(d, ensure_ascii=False))


async def interactions(request: web.Request) -> web.Response:
    body = await json_body(request)
    kind = body.get("kind")
    if kind not in KINDS:
        raise bad_request("kind 应为 " + " / ".join(KINDS) + " 之一")
    try:
        user = request.app[SANDBOX].state.interact(str(body.get("openid") or ""), kind, body.get("at"))
    except (ValueError, TypeError) as exc:
        raise bad_request(f"无法登记互动：{exc}") from None
    state = request.app[SANDBOX].state
    return reply({"openid": user.openid, "followed": user.followed, "window": user.window.describe(state.now())})


async def users(request: web.Request) -> web.Response:
    body = await json_body(request)
    state = request.app[SANDBOX].state
    openid = str(body.get("openid") or "")
    try:
        user = state.ensure_user(openid)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    if "followed" in body:
        user.followed = bool(body["followed"])
    if "refused_templates" in body:
        user.refused_templates = set(body["refused_templates"] or [])
    if "blocks_templates" in body:
        user.blocks_templates = bool(body["blocks_templates"])
    return reply({"openid": user.openid, "followed": user.followed,
                  "refused_templates": sorted(user.refused_templates), "blocks_templates": user.blocks_templates})


async def messages(request: web.Request) -> web.Response:
    q = request.query
    try:
        after = int(q.get("after") or 0)
    except ValueError:
        raise bad_request("after 应为整数") from None
    found = request.app[SANDBOX].state.messages(q.get("openid") or None, after, q.get("kind") or None)
    return reply({"messages": found})


async def list_faults(request: web.Request) -> web.Response:
    return reply({"faults": [f.as_json() for f in request.app[SANDBOX].faults.faults]})


async def add_fault(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        fault = request.app[SANDBOX].faults.add(Fault.from_json(body))
    except (ValueError, TypeError) as exc:
        raise bad_request(f"故障设置有误：{exc}") from None
    return reply(fault.as_json())


async def clear_faults(request: web.Request) -> web.Response:
    q = request.query
    try:
        fault_id = int(q["id"]) if q.get("id") else None
    except ValueError:
        raise bad_request("id 应为整数") from None
    removed = request.app[SANDBOX].faults.clear(q.get("endpoint") or None, fault_id)
    return reply({"removed": removed})


async def revoke_tokens(request: web.Request) -> web.Response:
    request.app[SANDBOX].state.tokens.revoke_all()
    return reply({"revoked": True})


async def clock(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        advance = float(body.get("advance", 0))
    except (TypeError, ValueError):
        raise bad_request("advance 应为秒数") from None
    state = request.app[SANDBOX].state
    state.offset += advance
    return reply({"now": state.now(), "offset": state.offset})


async def media(request: web.Request) -> web.Response:
    from bot.sandbox.api import MEDIA_LIMITS, put_media
    from bot.sandbox.errors import ApiError

    kind = request.query.get("type", "")
    cap, content = max(MEDIA_LIMITS.values()) + 1, b""
    while len(content) < cap:
        chunk = await request.content.read(cap - len(content))
        if not chunk:
            break
        content += chunk
    try:
        return reply(put_media(request.app[SANDBOX].state, kind, content, request.content_type))
    except ApiError as exc:
        return reply({"errcode": exc.errcode, "errmsg": exc.errmsg})


async def reset(request: web.Request) -> web.Response:
    request.app[SANDBOX].reset()
    return reply({"reset": True})


async def stats(request: web.Request) -> web.Response:
    return reply(request.app[SANDBOX].stats())


async def qrcode_scene(request: web.Request) -> web.Response:
    found = request.app[SANDBOX].state.scene_of(request.query.get("ticket", ""))
    if found is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "二维码不存在或已过期"}, ensure_ascii=False),
                               content_type="application/json")
    return reply({"scene": found["scene"], "action": found["action"]})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/sandbox/interactions", interactions)
    r.add_post("/sandbox/users", users)
    r.add_get("/sandbox/messages", messages)
    r.add_get("/sandbox/faults", list_faults)
    r.add_post("/sandbox/faults", add_fault)
    r.add_delete("/sandbox/faults", clear_faults)
    r.add_post("/sandbox/tokens/revoke", revoke_tokens)
    r.add_post("/sandbox/clock", clock)
    r.add_post("/sandbox/media", media)
    r.add_post("/sandbox/reset", reset)
    r.add_get("/sandbox/stats", stats)
    r.add_get("/sandbox/qrcodes", qrcode_scene)
