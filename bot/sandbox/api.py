"""The sandbox's stand-in for `api.weixin.qq.com`: the `/cgi-bin/...` routes linli calls, answering as WeChat does
(HTTP 200 with a JSON body; errors as `{"errcode", "errmsg"}` with a `rid`), after any injected fault.
"""
from __future__ import annotations

import asyncio
import json
import re
import secrets
from typing import Callable

from aiohttp import web

from bot.sandbox.errors import ERRMSGS, ApiError
from bot.sandbox.hub import SANDBOX, Sandbox

Handler = Callable[[Sandbox, web.Request, dict], dict]


def wechat_json(data: dict) -> web.Response:
    return web.json_response(data, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def error_json(errcode: int, errmsg: str | None = None) -> web.Response:
    rid = f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return wechat_json({"errcode": errcode, "errmsg": f"{errmsg or ERRMSGS.get(errcode, 'error')} rid: {rid}"})


def parse_body(raw: bytes) -> dict:
    if not raw.strip():
        raise ApiError(44002)
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(47001) from None
    if not isinstance(body, dict):
        raise ApiError(47001)
    return body


def endpoint(handler: Handler, *, token: bool = True, body: bool = True, ok: bool = True):
    """Wrap a state call: faults → access_token check → JSON body → handler → WeChat-shaped answer.

    The work runs in a task shielded from the caller: like WeChat, the sandbox finishes a request whose client
    gave up (timed out), so a late retry can meet the effect of the first attempt.
    """

    async def handle(request: web.Request, sandbox: Sandbox) -> web.StreamResponse:
        outcome = sandbox.faults.roll(request.path)
        raw = await request.read() if body else b""
        if outcome.latency:
            await asyncio.sleep(outcome.latency)
        if outcome.drop:
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable()
        if outcome.errcode is not None:
            return error_json(outcome.errcode, outcome.errmsg)
        try:
            if token:
                sandbox.state.tokens.check(request.query.get("access_token"))
            answer = handler(sandbox, request, parse_body(raw) if body else {})
        except ApiError as exc:
            return error_json(exc.errcode, exc.errmsg)
        return wechat_json({"errcode": 0, "errmsg": "ok", **answer} if ok else answer)

    async def route(request: web.Request) -> web.StreamResponse:
        sandbox = request.app[SANDBOX]
        sandbox.requests[request.path] += 1
        return await asyncio.shield(sandbox.track(handle(request, sandbox)))

    return route


def _stable_token(sb: Sandbox, _req: web.Request, body: dict) -> dict:
    sb.state.check_credentials(body.get("appid"), body.get("secret"), body.get("grant_type"))
    token, expires_in = sb.state.tokens.stable_token(bool(body.get("force_refresh")))
    return {"access_token": token, "expires_in": expires_in}


def _classic_token(sb: Sandbox, req: web.Request, _body: dict) -> dict:
    q = req.query
    sb.state.check_credentials(q.get("appid"), q.get("secret"), q.get("grant_type"))
    token, expires_in = sb.state.tokens.classic_token()
    return {"access_token": token, "expires_in": expires_in}


def _template(sb: Sandbox, _req: web.Request, body: dict) -> dict:
    answer, delivery = sb.state.send_template(body)
    if delivery is not None:
        user = sb.state.users[delivery.openid]
        status = "failed:user block" if user.blocks_templates else "success"
        sb.pusher.push(delivery.openid, int(delivery.at), answer["msgid"], status)
    return answer


async def show_qrcode(request: web.Request) -> web.Response:
    ticket = request.query.get("ticket", "")
    if request.app[SANDBOX].state.scene_of(ticket) is None:  # unknown, or a temporary code past its time
        raise web.HTTPNotFound(text="ticket 不存在")
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" '
           'fill="#eee"/><text x="20" y="100">sandbox QR</text></svg>')
    return web.Response(text=svg, content_type="image/svg+xml")


# A short AMR-NB file (the header and silent frames), what WeChat serves for a resident's voice message.
VOICE_PAYLOAD = b"#!AMR\n" + bytes([0x3C] + [0x00] * 31) * 50
MEDIA_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")


# WeChat's limits on temporary media (what `media/upload` accepts, so what a resident's message can carry)
MEDIA_LIMITS = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024, "thumb": 64 * 1024}
MEDIA_TYPES = {"image": ("image/jpeg", "image/png", "image/gif"), "voice": ("audio/amr", "audio/mpeg", "audio/speex"),
               "video": ("video/mp4",), "thumb": ("image/jpeg",)}
MEDIA_LIFETIME = 3 * 24 * 3600  # WeChat deletes temporary media after three days


async def media_get(request: web.Request) -> web.StreamResponse:
    """`GET /cgi-bin/media/get`: a temporary media file by MediaId. Media put with `POST /sandbox/media` are served
    as they were put (a video as JSON `{"video_url"}`, as WeChat does), and are gone (40007) three days later by
    the sandbox clock; any other well-formed MediaId is served as a one-second voice recording (binary,
    `audio/amr`). Errors are JSON as in WeChat (40007 invalid media_id)."""
    sandbox = request.app[SANDBOX]
    sandbox.requests[request.path] += 1
    outcome = sandbox.faults.roll(request.path)
    if outcome.latency:
        await asyncio.sleep(outcome.latency)
    if outcome.drop:
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPServiceUnavailable()
    if outcome.errcode is not None:
        return error_json(outcome.errcode, outcome.errmsg)
    media_id = request.query.get("media_id", "")
    try:
        sandbox.state.tokens.check(request.query.get("access_token"))
        if not MEDIA_ID.fullmatch(media_id):
            raise ApiError(40007)
        stored = _stored_media(sandbox.state, media_id)
    except ApiError as exc:
        return error_json(exc.errcode, exc.errmsg)
    if stored is None:
        return web.Response(body=VOICE_PAYLOAD, content_type="audio/amr", headers={
            "Content-Disposition": f'attachment; filename="{media_id}.amr"'})
    content, content_type, kind = stored
    if kind == "video":
        return web.json_response({"video_url": str(request.url.with_path(f"/sandbox/media/{media_id}")
                                                   .with_query(None))})
    return web.Response(body=content, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{media_id}"'})


def _stored_media(state, media_id: str) -> tuple[bytes, str, str] | None:
    """A media put into the sandbox (None: not one of those); 40007 once WeChat would have deleted it."""
    entry = state.media.get(media_id)
    if entry is None:
        return None
    content, content_type, kind, created = entry
    if state.now() - created >= MEDIA_LIFETIME:
        raise ApiError(40007)
    return content, content_type, kind


async def video_file(request: web.Request) -> web.StreamResponse:
    """The download address a video's `media/get` answer points at."""
    state = request.app[SANDBOX].state
    try:
        stored = _stored_media(state, request.match_info["media_id"])
    except ApiError:
        stored = None
    if stored is None or stored[2] != "video":
        raise web.HTTPNotFound()
    return web.Response(body=stored[0], content_type=stored[1])


def put_media(state, kind: str, content: bytes, content_type: str) -> dict:
    """Keep a media file as WeChat would after `media/upload` (its type and size limits): the MediaId a resident's
    message carries. Raises ApiError 40004 (type) / 40006 (size)."""
    if kind not in MEDIA_LIMITS or content_type not in MEDIA_TYPES[kind]:
        raise ApiError(40004)
    if not content or len(content) > MEDIA_LIMITS[kind]:
        raise ApiError(40006)
    media_id = f"{kind[0]}Media_{secrets.token_hex(12)}"
    state.media[media_id] = (content, content_type, kind, state.now())
    return {"type": kind, "media_id": media_id, "created_at": int(state.now())}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/cgi-bin/token", endpoint(_classic_token, token=False, body=False, ok=False))
    r.add_post("/cgi-bin/stable_token", endpoint(_stable_token, token=False, ok=False))
    r.add_post("/cgi-bin/message/custom/send", endpoint(lambda sb, _r, b: sb.state.send_custom(b)))
    r.add_post("/cgi-bin/message/template/send", endpoint(_template))
    r.add_post("/cgi-bin/message/subscribe/bizsend", endpoint(lambda sb, _r, b: sb.state.send_subscribe(b)))
    r.add_get("/cgi-bin/user/info",
              endpoint(lambda sb, req, _b: sb.state.user_info(req.query.get("openid")), body=False, ok=False))
    r.add_post("/cgi-bin/menu/create", endpoint(lambda sb, _r, b: sb.state.create_menu(b)))
    r.add_get("/cgi-bin/menu/get", endpoint(lambda sb, _r, _b: sb.state.get_menu(), body=False, ok=False))
    r.add_post("/cgi-bin/qrcode/create", endpoint(lambda sb, _r, b: sb.state.create_qrcode(b), ok=False))
    r.add_get("/cgi-bin/showqrcode", show_qrcode)
    r.add_get("/cgi-bin/media/get", media_get)
    r.add_get("/sandbox/media/{media_id}", video_file)
