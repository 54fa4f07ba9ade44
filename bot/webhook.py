"""The `/wechat` route: verify, parse, dispatch against the deadline, render. Nothing else.

A reply that is not ready within the budget is answered with `success` and pushed later as a
customer-service message; long texts are split, the rest pushed the same way.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Coroutine

from aiohttp import web

from bot import metrics, replay
from bot.dispatch import BUSY_REPLY, ERROR_REPLY, Delivery, Dispatcher, Outcome
from bot.protocol import Codec, ProtocolError, check_query, check_signature, check_timestamp
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from bot.types import InboundMessage, Reply, split_text

log = logging.getLogger("linli.webhook")

SETTINGS = web.AppKey("settings", Settings)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
CODEC = web.AppKey("codec", Codec)
TASKS = web.AppKey("tasks", BackgroundTasks)
Pusher = Callable[[str, list[str]], Coroutine[Any, Any, None]]  # push texts to a resident (after the reply)
PUSHER = web.AppKey[Pusher]("pusher")

UNSUPPORTED = {
    "image": "图片", "video": "视频", "shortvideo": "小视频", "location": "位置",
    "link": "链接", "file": "文件", "miniprogrampage": "小程序卡片",
}


def _text_response(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain", charset="utf-8")


async def verify(request: web.Request) -> web.Response:
    """GET: WeChat's URL verification; echo `echostr` when the signature holds."""
    settings, q = request.app[SETTINGS], request.query
    try:
        check_query(q)
    except ProtocolError as exc:
        log.warning("verification refused: %s", exc.reason)
        return _text_response("signature mismatch", 403)
    if not check_signature(settings.wechat_token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", "")):
        log.warning("verification refused: bad signature")
        return _text_response("signature mismatch", 403)
    return _text_response(q.get("echostr", ""))


async def receive(request: web.Request) -> web.Response:
    """POST: one message or event from WeChat."""
    started = time.perf_counter()
    response = await _receive(request)
    metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
    return response


async def _receive(request: web.Request) -> web.Response:
    app, settings = request.app, request.app[SETTINGS]
    query = request.query
    try:
        check_query(query)  # shapes first: nothing is computed from a 400-digit timestamp
        check_timestamp(query["timestamp"], settings.timestamp_window)
        body = await _read_body(request, settings.max_body_bytes)
        envelope = app[CODEC].open(body, query)
    except ProtocolError as exc:
        return _rejected(exc)
    message = envelope.message
    claim = replay.claim_for(query["timestamp"], query["nonce"], body, settings.timestamp_window)
    outcome = await _dispatch_with_deadline(app, message, settings.reply_budget, claim)
    if outcome is not None and outcome.replayed:
        return _rejected(ProtocolError(403, "timestamp and nonce already used"))
    metrics.MESSAGES.labels(_outcome_label(outcome)).inc()
    if outcome is None or outcome.push:
        return _text_response("success")
    reply, rest = _first_and_rest(outcome.reply)
    if rest and not outcome.duplicate:
        app[TASKS].spawn(app[PUSHER](message.openid, rest), name=f"push-rest:{message.dedupe_key}")
    return web.Response(
        text=app[CODEC].render(reply, message, envelope.crypto), content_type="application/xml", charset="utf-8"
    )


def _rejected(exc: ProtocolError) -> web.Response:
    log.warning("rejected inbound request: %s", exc.reason)
    metrics.REJECTED.labels(str(exc.status)).inc()
    return _text_response(exc.reason, exc.status)


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(413, "body too large")
    body = bytearray()
    async for chunk in request.content.iter_chunked(8192):
        body.extend(chunk)
        if len(body) > limit:
            raise ProtocolError(413, "body too large")
    if not body:
        raise ProtocolError(400, "empty body")
    return bytes(body)


async def _dispatch_with_deadline(app: web.Application, message: InboundMessage, budget: float,
                                  claim: replay.Claim | None = None) -> Outcome | None:
    """Race the dispatcher against the budget; a late answer is pushed when it is ready."""
    delivery = Delivery(claim=claim)
    task = app[TASKS].spawn(app[DISPATCHER].feed(message, delivery), name=f"dispatch:{message.dedupe_key}")
    done, _ = await asyncio.wait({task}, timeout=budget)
    if task in done:
        try:
            return task.result()
        except Exception:  # a bug outside the handlers: answer politely, never a 500 to WeChat
            log.exception("dispatch failed")
            return Outcome(ERROR_REPLY)
    delivery.late = True
    log.warning("handler overran the %.1fs budget; answering success and pushing later", budget)
    pusher = app[PUSHER]

    async def push_when_ready() -> None:
        outcome = await task
        if outcome.reply.text and not outcome.duplicate:
            await pusher(message.openid, split_text(outcome.reply.text))

    app[TASKS].spawn(push_when_ready(), name=f"push-late:{message.dedupe_key}")
    return None


def _outcome_label(outcome: Outcome | None) -> str:
    if outcome is None or outcome.push:
        return "late"
    if outcome.duplicate:
        return "duplicate"
    if outcome.reply is ERROR_REPLY:
        return "error"
    if outcome.reply is BUSY_REPLY:
        return "busy"
    return "silent" if outcome.reply.silent else "replied"


def _first_and_rest(reply: Reply) -> tuple[Reply, list[str]]:
    if reply.silent or not reply.text:
        return reply, []
    chunks = split_text(reply.text)
    if len(chunks) == 1:
        return reply, []
    return Reply(chunks[0] + "\n（内容较长，余下部分随后发送）"), chunks[1:]


def unsupported_text(kind: str) -> str:
    what = UNSUPPORTED.get(kind, "这类")
    return f"暂时无法处理{what}消息。请用文字告诉我们您的问题，或回复「帮助」查看可以办理的事项。"
