"""The `linli worker` process role: a sender (several lanes) plus the scheduler (acting only under its lease).

Run one or more `linli worker` processes next to the web workers; the web workers then never send or schedule
(unless LINLI_DELIVERY_IN_WEB=1, which attaches the same pair to `linli serve` via `background`). SIGTERM/SIGINT
stop after the batch in hand is recorded; a `kill -9` leaves that batch `sending` until its lease lapses, and
the next worker re-sends it (flagged `resent`).

Also runnable as `python -m bot.delivery.worker [--until-idle]` (used by the crash test and the bench).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import signal
import sys

from aiohttp import web

from bot.context import Services
from bot.delivery.config import DeliveryConfig
from bot.delivery.scheduler import BroadcastScheduler
from bot.delivery.sender import Sender
from bot.settings import Settings

log = logging.getLogger("linli.delivery.worker")


async def run(services: Services, *, until_idle: bool = False, stop: asyncio.Event | None = None,
              scheduler: bool = True, config: DeliveryConfig | None = None, jobs: list | None = None) -> dict:
    """Send broadcasts; with `scheduler`, also compete for the scheduler lease and, while holding it, start
    scheduled broadcasts and run the features' periodic `jobs` (default: `bot.app.feature_jobs()`)."""
    stop = stop or asyncio.Event()
    sender = Sender(services, config)
    if jobs is None:
        from bot.app import feature_jobs  # the composition root knows the features

        jobs = feature_jobs()
    sched = BroadcastScheduler(services, on_activate=lambda _ids: sender.wake.set(), jobs=jobs) if scheduler else None
    try:
        if sched is not None:
            await sched.start()
        stats = await sender.run(stop, until_idle=until_idle)
    finally:
        if sched is not None:
            await sched.stop()
        await sender.close()
    return {"sent": stats.sent, "skipped": stats.skipped, "failed": stats.failed, "retried": stats.retried,
            "batches": stats.batches, "by_channel": stats.by_channel}


def build_services(settings: Settings) -> Services:
    from storage.db import Database

    return Services(settings=settings, db=Database(settings.database_url))


async def main_async(settings: Settings, until_idle: bool) -> dict:
    services = build_services(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await run(services, until_idle=until_idle, stop=stop)
    finally:
        await services.close_extras()
        await services.db.dispose()


def background(services: Services):
    """An aiohttp `cleanup_ctx` running a sender and the (leased) scheduler inside a web process."""

    async def ctx(app: web.Application):
        stop = asyncio.Event()
        task = asyncio.create_task(run(services, stop=stop), name="delivery-worker")
        yield
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    return ctx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linli worker", description="群发投递进程")
    parser.add_argument("--until-idle", action="store_true", help="没有正在发送的群发时退出")
    parser.add_argument("--json", action="store_true", help="结束时以 JSON 输出统计（含峰值内存）")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    DeliveryConfig.from_settings(settings)  # fail at start on bad values
    from bot.production import refuse_unsafe_start

    if refuse_unsafe_start(settings, "linli worker"):
        return 2
    stats = asyncio.run(main_async(settings, args.until_idle))
    stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        print(json.dumps(stats), flush=True)
    else:
        print(f"投递进程已退出：发送 {stats['sent']}，跳过 {stats['skipped']}，失败 {stats['failed']}。", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
