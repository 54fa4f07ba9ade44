"""Prometheus metrics: what happens is counted where it happens; what is waiting is read from the database.

Counters and histograms live in `prometheus_client`. With several processes (`linli serve --workers N`,
`linli worker`) set `PROMETHEUS_MULTIPROC_DIR` to a directory shared by them (the supervisor does this for its
workers): each process then writes its figures there and `/metrics`, whichever worker answers, reports the sum.
Queue depth and waiting broadcasts are deployment-wide facts, so they are read from the database at scrape time.

`/metrics` is for the operator's Prometheus: it answers this machine, or a request with LINLI_METRICS_TOKEN
(bot.health); the shipped nginx does not pass it on either.
"""
from __future__ import annotations

import logging
import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger("linli.metrics")

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("linli_http_requests", "HTTP requests answered, by route template, method and status.",
                   ["route", "method", "status"])
WEBHOOK_SECONDS = Histogram(
    "linli_webhook_seconds", "Time from receiving a WeChat POST to answering it.",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.5, 10.0),
)
MESSAGES = Counter("linli_webhook_messages", "Inbound messages by outcome: replied, silent, duplicate (a WeChat "
                   "retry answered from the dedupe record), late (answered `success`, pushed later), error, busy.",
                   ["outcome"])
REJECTED = Counter("linli_webhook_rejected", "Inbound requests refused before dispatch, by HTTP status.", ["status"])
HANDLER_ERRORS = Counter("linli_handler_errors", "Handlers that raised (the resident got the error reply).")
VOICE = Counter("linli_voice_messages", "Voice messages by how they were heard: recognition (WeChat's text), asr "
                "(LINLI_ASR), none (no backend), empty (no words), failed, timeout.", ["outcome"])
DEDUPE_HITS = Counter("linli_dedupe_hits", "Duplicate deliveries of an already processed message.")
DB_RETRIES = Counter("linli_db_busy_retries", "Transactions retried because the database was busy or unreachable.")
DELIVERIES = Counter("linli_deliveries", "Broadcast deliveries finished by this deployment, by status and channel.",
                     ["status", "channel"])
WECHAT_CALLS = Counter("linli_wechat_api_calls", "Calls to the WeChat API, by endpoint and result "
                       "(ok, errcode, unavailable).", ["api", "result"])
WECHAT_ERRCODES = Counter("linli_wechat_errcodes", "Non-zero errcodes answered by the WeChat API.",
                          ["api", "errcode"])
JOBS = Counter("linli_scheduler_jobs", "Scheduled job runs, by job and result (ok, failed).", ["job", "result"])


def api_label(path: str) -> str:
    """`/cgi-bin/message/custom/send` → `message/custom/send` (bounded: the client calls a fixed set)."""
    return path.removeprefix("/cgi-bin/").strip("/")[:48] or "?"


@web.middleware
async def count_requests(request: web.Request, handler):
    """Requests by route template (never the raw path: ids would explode the label set) and status."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _count(request, exc.status)
        raise
    except Exception:
        _count(request, 500)
        raise
    _count(request, response.status)
    return response


def _count(request: web.Request, status: int) -> None:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    template = resource.canonical if resource is not None else "unmatched"
    REQUESTS.labels(template, request.method, str(status)).inc()


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text; for this machine or the LINLI_METRICS_TOKEN only (see bot.health)."""
    from bot.app import SERVICES
    from bot.health import REFUSED, has_token, is_local

    if not (is_local(request) or has_token(request, request.app[SERVICES].settings.metrics_token)):
        return web.Response(text=REFUSED, status=403, content_type="text/plain", charset="utf-8")

    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROCESS_ENV):
        MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    body = generate_latest(registry)
    body += await _database_figures(request.app[SERVICES])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _database_figures(services) -> bytes:
    """Deployment-wide gauges read at scrape time; a database that does not answer leaves them out."""
    from sqlalchemy import func, select

    from storage.delivery_models import Broadcast, Delivery

    registry = CollectorRegistry(auto_describe=False)
    queue = GaugeMetricFamily("linli_delivery_queue", "Deliveries of unfinished broadcasts not yet sent, by status.",
                              labels=["status"])
    broadcasts = GaugeMetricFamily("linli_broadcasts", "Broadcasts not finished, by status.", labels=["status"])
    try:
        async with services.db.reading() as session:
            waiting = await session.execute(
                select(Delivery.status, func.count())
                .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
                .where(Broadcast.status.in_(("sending", "paused", "scheduled")),
                       Delivery.status.in_(("queued", "sending")))
                .group_by(Delivery.status))
            counts = dict(waiting.all())
            open_ = await session.execute(
                select(Broadcast.status, func.count())
                .where(Broadcast.status.in_(("scheduled", "sending", "paused"))).group_by(Broadcast.status))
            open_counts = dict(open_.all())
    except Exception as exc:  # metrics must not fail because the database does
        log.warning("metrics: database figures unavailable: %s", type(exc).__name__)
        return b""
    for status in ("queued", "sending"):
        queue.add_metric([status], counts.get(status, 0))
    for status in ("scheduled", "sending", "paused"):
        broadcasts.add_metric([status], open_counts.get(status, 0))

    class _Snapshot:
        def collect(self):
            return [queue, broadcasts]

    registry.register(_Snapshot())
    return generate_latest(registry)
