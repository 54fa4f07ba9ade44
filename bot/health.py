"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers too), and who may ask.

`/healthz`, `/readyz` and `/metrics` are for the operator's tools, not the public: they answer requests made on
this machine (loopback, or the machine's own address) that did not come through a proxy (no `X-Forwarded-For`,
`X-Real-IP` or `Forwarded` header: a request relayed by a reverse proxy on this machine is somebody else's), and
requests carrying `Authorization: Bearer <LINLI_METRICS_TOKEN>` when that token is set (Prometheus on another
machine). Anything else gets 403.

`/healthz` names the worker that answered (`worker`: its index under `linli serve --workers N`, else null); the
process id only to a caller on this machine (the supervisor and the operations tests tell the processes apart by it).
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os

from aiohttp import web

log = logging.getLogger("linli.health")

FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
REFUSED = "仅对本机或携带监控令牌（LINLI_METRICS_TOKEN）的请求开放"


def is_local(request: web.Request) -> bool:
    """A request from this machine that no proxy relayed."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    peer = request.remote or ""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return not peer  # a Unix socket: only this machine can connect
    if address.is_loopback:
        return True
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None and mapped.is_loopback:
        return True
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    return bool(sockname) and isinstance(sockname, tuple) and sockname[0] == peer  # our own address


def has_token(request: web.Request, token: str | None) -> bool:
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode())


def operators_only(handler):
    """Wrap an operator endpoint: local requests, or the metrics token; 403 otherwise."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        from bot.app import SERVICES

        if not (is_local(request) or has_token(request, request.app[SERVICES].settings.metrics_token)):
            return web.Response(text=REFUSED, status=403, content_type="text/plain", charset="utf-8")
        return await handler(request)

    guarded.__name__ = getattr(handler, "__name__", "guarded")
    guarded.__doc__ = handler.__doc__
    return guarded


@operators_only
async def healthz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    body = {"status": "ok", "worker": request.app[SERVICES].settings.worker_index}
    if is_local(request):
        body["pid"] = os.getpid()
    return web.json_response(body)


@operators_only
async def readyz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    try:
        await asyncio.wait_for(request.app[SERVICES].db.ping(), timeout=2.0)
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("readiness check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
