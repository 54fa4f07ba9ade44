"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers too).

`/healthz` also names the process that answered (`pid`, and `worker`: its index under `linli serve --workers N`,
else null), so an operator or a test can see the connections spread over the workers."""
from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web

log = logging.getLogger("linli.health")


async def healthz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    worker = request.app[SERVICES].settings.worker_index
    return web.json_response({"status": "ok", "pid": os.getpid(), "worker": worker})


async def readyz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    try:
        await asyncio.wait_for(request.app[SERVICES].db.ping(), timeout=2.0)
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("readiness check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
