"""The composition root: builds the services and the aiohttp app from the installed features.

The kernel knows no feature by name: `bot.features.installed_features()` finds them through their entry points,
and each adds its chat routers (in their declared order), console pages, public routes, background roles and
jobs. `create_app(settings)` has no globals, so every test builds its own app and nothing leaks between them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Callable, Sequence

from aiohttp import web

from bot import health, metrics, voice, webhook
from bot.context import Services
from bot.delivery.config import DeliveryConfig
from bot.delivery.worker import background as delivery_background
from bot.dispatch import Dispatcher
from bot.features import (
    CONSOLE_PLUGINS,
    Feature,
    chat_routers,
    console_plugins,
    installed_features,
    periodic_jobs,
    state_groups,
)
from bot.jobs import Job
from bot.logs import request_id_middleware
from bot.outbound import WeChatClient, WeChatError, WeChatUnavailable
from bot.protocol import Codec
from bot.router import Router, dialog_specs
from bot.settings import Settings
from bot.states import check_routes
from bot.tasks import BackgroundTasks
from storage.db import Database
from storage.repositories import conversations, processed, replay

log = logging.getLogger("linli.app")

SERVICES = web.AppKey("services", Services)
HOUSEKEEPING_EVERY = 600.0
ANALYZE_EVERY = 6 * 3600.0
PROCESSED_KEEP = timedelta(days=1)


def build_services(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, knowledge=None, load_knowledge: bool = True
) -> Services:
    db = Database(settings.database_url, background_checkpoint=True)
    wechat = WeChatClient.with_database_tokens(settings, db.sessions)
    if knowledge is None and load_knowledge:
        from knowledge import KnowledgeHolder

        knowledge = KnowledgeHolder()
    services = Services(settings=settings, db=db, wechat=wechat, knowledge=knowledge, asr=voice.build(settings))
    if clock is not None:
        services.clock = clock
    return services


def feature_jobs(features: Sequence[Feature] | None = None) -> list[Job]:
    """Every feature's periodic jobs (`bot.jobs.Job`), run by the deployment's one scheduler."""
    return periodic_jobs(installed_features() if features is None else features)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    features: Sequence[Feature] | None = None,
    routers: Sequence[Router] | None = None,
    plugins: Sequence | None = None,
) -> web.Application:
    """The linli web app with `features` (default: every installed one). Tests may narrow the chat `routers`
    or the console `plugins` (a feature's console part) without changing the features' other parts."""
    services = services or build_services(settings)
    features = installed_features() if features is None else list(features)
    services.features = features
    if routers is None:
        routers = chat_routers(features)
        check_routes(state_groups(features), dialog_specs(routers))
    services.extras.setdefault("help_lines", [line for r in routers for line in r.help_lines])
    services.extras.setdefault("cancel_notes", {k: v for r in routers for k, v in r.cancel_notes.items()})
    app = web.Application(
        middlewares=[request_id_middleware, metrics.count_requests], client_max_size=settings.max_body_bytes
    )
    app[SERVICES] = services
    app[webhook.SETTINGS] = settings
    app[webhook.DISPATCHER] = Dispatcher(services, list(routers))
    app[webhook.CODEC] = Codec(
        settings.wechat_token, settings.wechat_appid, [settings.wechat_aes_key, settings.wechat_aes_key_previous],
        settings.wechat_encrypt_mode,
    )
    app[webhook.TASKS] = BackgroundTasks()
    app[webhook.PUSHER] = _pusher(services)
    app[CONSOLE_PLUGINS] = console_plugins(features) if plugins is None else list(plugins)
    app.router.add_get("/wechat", webhook.verify)
    app.router.add_post("/wechat", webhook.receive)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", metrics.metrics_page)
    app.cleanup_ctx.append(_lifetime)
    for feature in features:
        if feature.web is not None:
            feature.web(app, services)
    if DeliveryConfig.from_settings(services.settings).in_web:  # also validates LINLI_DELIVERY_* at start
        app.cleanup_ctx.append(delivery_background(services))
    return app


def _pusher(services: Services):
    async def push(openid: str, texts: list[str]) -> None:
        wechat = services.wechat
        if wechat is None:  # a service without the outbound client cannot push
            return
        for text in texts:
            try:
                await wechat.send_text(openid, text)
            except (WeChatError, WeChatUnavailable) as exc:
                log.warning("could not push a reply: %s", type(exc).__name__)
                return

    return push


async def _lifetime(app: web.Application):
    services, tasks = app[SERVICES], app[webhook.TASKS]
    services.db.start_checkpointing()  # SQLite: the log folded into the file off the event loop (storage.wal)
    housekeeping = asyncio.create_task(_housekeeping(services), name="housekeeping")
    yield
    housekeeping.cancel()
    await asyncio.gather(housekeeping, return_exceptions=True)
    await tasks.drain()
    if services.wechat is not None:
        await services.wechat.close()
    if isinstance(services.asr, voice.HttpRecognizer):
        await services.asr.close()
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
                await replay.prune(session, now)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("housekeeping failed")
