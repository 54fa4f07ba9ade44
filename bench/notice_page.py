"""Public notice page benchmark: requests/s and latency percentiles of `/n/<id>` on loopback.

Seeds a database (demo organisation, --notices published notices with a Markdown body and a 20-row table, a third
of them corrected once), starts `linli serve` as a subprocess, then measures

  1. an open loop at --rate requests/s for --seconds (each request sent at its scheduled moment, latency counted
     from that moment, so a slow server cannot hide its queue), over a random mix of notices and versions, as a
     resident's first visit (no If-None-Match), and
  2. a closed loop: --concurrency clients back to back, as fast as the server answers (the ceiling).

Target: p99 under 20 ms at 200 requests/s.

    .venv/bin/python bench/notice_page.py [--rate 200] [--seconds 10] [--notices 200] [--database-url ...] [--ttl 0]

Until `bot.app` mounts the page (`handlers.notices.setup_routes`), the server is `linli serve` with the route added
by a shim (`--serve`), which is the same app otherwise; the output says which one ran.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, free_port, linli, percentile, process, rss_mb  # noqa: E402

BODY = """## 2026年{n}月物业服务收支情况

根据《关于进一步加强我市社区物业管理机制建设的实施意见》，现将本月物业服务费、停车费和场地占用费的收支情况公示如下，
公示期 7 天。如有疑问，请联系社区居委会或在公众号中回复「投诉」。

- 收入：物业服务费、机动车停车费、非机动车场地占用费
- 支出：保洁、绿化、秩序维护、电梯维保、公共能耗
- 监督电话见社区公告栏

**备注**：金额单位为元。"""


def table(n: int) -> dict:
    rows = [[f"项目{i}", f"{1000 + 37 * i + n}.50", "" if i % 3 else f"{200 + i}.25"] for i in range(20)]
    return {"title": "收支明细", "columns": ["项目", "收入（元）", "支出（元）"], "rows": rows}


async def seed(url: str, count: int) -> list[str]:
    """Publish `count` notices (a third corrected); returns the page paths to request."""
    from sqlalchemy import select

    from handlers.notices import service
    from storage.db import Database
    from storage.models import Community

    db = Database(url)
    now = datetime.now(timezone.utc) - timedelta(days=1)
    actor = service.system_actor("bench")
    paths: list[str] = []
    async with db.transaction() as session:
        communities = list(await session.scalars(select(Community.id)))
        for n in range(count):
            notice = await service.create_draft(
                session, actor, category="finance", title=f"2026年{n % 12 + 1}月物业服务收支公示（{n}）",
                body=BODY.format(n=n % 12 + 1), scope_level="community", scope_ids=[communities[n % len(communities)]],
                tables=[table(n)], now=now)
            await service.approve(session, actor, notice, now=now, base_url="http://127.0.0.1")
            paths.append(f"/n/{notice.public_id}")
            if n % 3 == 0:
                await service.correct(session, actor, notice, title=f"更正：收支公示（{n}）", body=BODY.format(n=1),
                                      tables=[table(n + 1)], note="第3行金额有误", now=now, base_url="http://127.0.0.1")
                paths.append(f"/n/{notice.public_id}?v=1")
    await db.dispose()
    return paths


def serve_with_page() -> None:
    """`linli serve`, with the public page added if the composition root does not mount it yet."""
    import bot.app as app_module
    from bot.cli import main

    original = app_module.create_app

    def create_app(settings, **kw):
        app = original(settings, **kw)
        if not any(getattr(r, "canonical", "") == "/n/{public_id}" for r in app.router.resources()):
            from handlers.notices import setup_routes

            setup_routes(app, app[app_module.SERVICES])
        return app

    app_module.create_app = create_app
    raise SystemExit(main(["serve"]))


def wired() -> bool:
    import inspect

    import bot.app

    return "setup_routes" in inspect.getsource(bot.app)


async def warm(base: str, paths: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for path in paths:
            async with http.get(base + path) as resp:
                await resp.read()


async def open_loop(base: str, paths: list[str], rate: float, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                async with http.get(base + random.choice(paths)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - scheduled)

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
    return latencies, errors, total / elapsed


async def closed_loop(base: str, paths: list[str], concurrency: int, seconds: float) -> tuple[int, float, list[float]]:
    done, latencies = 0, []
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                async with http.get(base + random.choice(paths)) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - t)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.perf_counter() - started, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url")
    parser.add_argument("--ttl", help="LINLI_NOTICE_PAGE_TTL for the server (0: every request reads the database)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_with_page()
    folder = tempfile.mkdtemp(prefix="linli-bench-notice-")
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/linli.db"
    port = free_port()
    env = {"LINLI_DATABASE_URL": url, "LINLI_PORT": str(port), "LINLI_LOG_LEVEL": "WARNING",
           **({"LINLI_NOTICE_PAGE_TTL": args.ttl} if args.ttl is not None else {})}
    linli("db", "upgrade", env=env)
    linli("org", "demo", env=env)
    paths = asyncio.run(seed(url, args.notices))
    mode = "linli serve" if wired() else "linli serve + shim (page not yet mounted by bot.app)"
    command = [PYTHON, "-m", "bot.cli", "serve"] if wired() else [PYTHON, str(Path(__file__).resolve()), "--serve"]
    base = f"http://127.0.0.1:{port}"
    with process(command, env={**os.environ, **env}, ready_url=f"{base}/healthz") as proc:
        asyncio.run(open_loop(base, paths, 50, 1))  # warm up: connections
        asyncio.run(warm(base, paths))  # and every page rendered once (steady state: a pushed notice is read often)
        latencies, errors, achieved = asyncio.run(open_loop(base, paths, args.rate, args.seconds))
        done, elapsed, closed = asyncio.run(closed_loop(base, paths, args.concurrency, min(args.seconds, 5)))
        rss = rss_mb(proc.pid)
    ms = [x * 1000 for x in latencies]
    ttl = args.ttl if args.ttl is not None else "default 10"
    print(f"server: {mode}; database: {url.split(':')[0]}; {len(paths)} pages ({args.notices} notices); "
          f"head cache TTL {ttl} s")
    print(f"open loop {args.rate:.0f}/s for {args.seconds:.0f} s: {achieved:.1f} requests/s achieved, errors {errors}, "
          f"p50 {percentile(ms, 50):.2f} ms, p90 {percentile(ms, 90):.2f} ms, p99 {percentile(ms, 99):.2f} ms, "
          f"max {max(ms):.2f} ms  → target p99 < 20 ms: {'met' if percentile(ms, 99) < 20 else 'NOT met'}")
    cms = [x * 1000 for x in closed]
    print(f"closed loop, {args.concurrency} clients: {done / elapsed:.0f} requests/s, p50 {percentile(cms, 50):.2f} ms, "
          f"p99 {percentile(cms, 99):.2f} ms; server peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
