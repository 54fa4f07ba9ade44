"""The composition root: builds the services, the feature routers in their order, and the aiohttp app.

`create_app(settings)` has no globals, so every test builds its own app and nothing leaks between them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Callable, Sequence

from aiohttp import web

from bot import health, metrics, webhook
from bot.context import Services
from bot.dispatch import Dispatcher
from bot.logs import request_id_middleware
from bot.outbound import WeChatClient, WeChatError, WeChatUnavailable
from bot.protocol import Codec
from bot.router import Router
from bot.settings import Settings
from bot.tasks import BackgroundTasks
from storage.db import Database
from storage.repositories import conversations, processed

log = logging.getLogger("linli.app")

SERVICES = web.AppKey("services", Services)
HOUSEKEEPING_EVERY = 600.0
ANALYZE_EVERY = 6 * 3600.0
PROCESSED_KEEP = timedelta(days=1)


def feature_routers() -> list[Router]:
    """Every feature's router, in the order they are offered a message. The only list of features."""
    from handlers import common, notices, policy_qa, registration, scorecards, subscriptions, surveys, tickets

    return [
        common.build_router(),
        subscriptions.build_router(),
        registration.build_router(),
        tickets.build_router(),
        notices.build_router(),
        surveys.build_router(),
        scorecards.build_router(),
        policy_qa.build_router(),  # answers any text: after every feature with words of its own
        common.fallback_router(),
    ]


def build_services(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, knowledge=None, load_knowledge: bool = True
) -> Services:
    db = Database(settings.database_url)
    wechat = WeChatClient.with_database_tokens(settings, db.sessions)
    if knowledge is None and load_knowledge:
        from knowledge import KnowledgeHolder

        knowledge = KnowledgeHolder()
    services = Services(settings=settings, db=db, wechat=wechat, knowledge=knowledge)
    if clock is not None:
        services.clock = clock
    return services


def feature_jobs() -> list:
    """Every feature's periodic jobs (`bot.jobs.Job`), run by the deployment's one scheduler."""
    from handlers import notices, scorecards, surveys, tickets

    return [*notices.jobs(), *surveys.jobs(), *tickets.jobs(), *scorecards.jobs()]


def console_plugins() -> list:
    """Every feature's staff pages, API routes and dashboard panels (`console(registry)` functions)."""
    from handlers import broadcasts, notices, scorecards, surveys, tickets
    from handlers.policy_qa import console as policy_qa

    return [tickets.console, notices.console, surveys.console, broadcasts.console, policy_qa.console,
            scorecards.console]


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    routers: Sequence[Router] | None = None,
    plugins: Sequence | None = None,
) -> web.Application:
    services = services or build_services(settings)
    routers = list(routers) if routers is not None else feature_routers()
    services.extras.setdefault("help_lines", [line for r in routers for line in r.help_lines])
    app = web.Application(
        middlewares=[request_id_middleware, metrics.count_requests], client_max_size=settings.max_body_bytes
    )
    app[SERVICES] = services
    app[webhook.SETTINGS] = settings
    app[webhook.DISPATCHER] = Dispatcher(services, routers)
    app[webhook.CODEC] = Codec(
        settings.wechat_token, settings.wechat_appid, [settings.wechat_aes_key, settings.wechat_aes_key_previous]
    )
    app[webhook.TASKS] = BackgroundTasks()
    app[webhook.PUSHER] = _pusher(services)
    app.router.add_get("/wechat", webhook.verify)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", metrics.metrics_page)
    app.cleanup_ctx.append(_lifetime)
    _mount_features(app, services, console_plugins() if plugins is None else list(plugins))
    return app


def _mount_features(app: web.Application, services: Services, plugins: list) -> None:
    """Each feature's web routes and background roles; the one place that knows them all."""
    from bot.delivery.config import DeliveryConfig
    from bot.delivery.worker import background

    from handlers import console, notices, tickets
    from handlers.tickets import sla

    sla.from_settings(services.settings)  # bad LINLI_TICKET_* values stop the start, not the first ticket
    notices.setup_routes(app, services)  # the public notice pages /n/<id>
    tickets.setup_routes(app, services)  # the Open311 GeoReport v2 export /open311/v2/…
    console.setup(app, services, plugins=plugins)
    if services.knowledge is not None:
        from handlers.policy_qa.reload import background as knowledge_reloads

        app.cleanup_ctx.append(knowledge_reloads(services))
    if DeliveryConfig.from_settings(services.settings).in_web:  # also validates LINLI_DELIVERY_* at start
        app.cleanup_ctx.append(background(services))


def _pusher(services: Services):
    async def push(openid: str, texts: list[str]) -> None:
        for text in texts:
            try:
                await services.wechat.send_text(openid, text)
            except (WeChatError, WeChatUnavailable) as exc:
                log.warning("could not push a reply: %s", exc, extra={"openid": openid})
                return

    return push


async def _lifetime(app: web.Application):
    services, tasks = app[SERVICES], app[webhook.TASKS]
    housekeeping = asyncio.create_task(_housekeeping(services), name="housekeeping")
    yield
    housekeeping.cancel()
    await asyncio.gather(housekeeping, return_exceptions=True)
    await tasks.drain()
    if services.wechat is not None:
        await services.wechat.close()
    await services.db.dispose()


async def _housekeeping(services: Services) -> None:
    """Forget processed messages past WeChat's retry horizon and expired dialogs, every few minutes; refresh
    SQLite's planner statistics at start and every few hours (the data's shape changes as a deployment grows)."""
    analyzed_at: float | None = None
    while True:
        try:
            if analyzed_at is None or time.monotonic() - analyzed_at >= ANALYZE_EVERY:
                analyzed_at = time.monotonic()
                await services.db.analyze()
        except Exception:  # statistics are an optimisation: try again next time
            log.exception("refreshing the database statistics failed")
        await asyncio.sleep(HOUSEKEEPING_EVERY)
        try:
            now = services.clock()
            async with services.db.transaction() as session:
                await processed.prune(session, now - PROCESSED_KEEP)
                await conversations.prune(session, now)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("housekeeping failed")
