"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers too)."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

log = logging.getLogger("linli.health")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    try:
        await asyncio.wait_for(request.app[SERVICES].db.ping(), timeout=2.0)
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("readiness check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
