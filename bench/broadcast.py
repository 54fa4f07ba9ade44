"""Broadcast benchmark: N residents (default 100,000), one broadcast, sent by a real `linli worker` process to the
WeChat sandbox (its own process) on loopback.

Prints deliveries per second (sustained: first to last message the sandbox received; end to end: the worker's
wall time including start-up and expansion), the sender's peak RSS, and duplicates and losses counted by the
sandbox per openid (both must be 0 without a crash).

    .venv/bin/python -m bench.broadcast                         # SQLite and PostgreSQL, no rate limit
    .venv/bin/python -m bench.broadcast --db sqlite --residents 10000 --rate 500   # with a rate limit
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timezone

from bench.common import PYTHON, ROOT, free_port, process

PG_ADMIN = os.environ.get("LINLI_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
APPID, SECRET = "wx5a1d0c0ffee0b0b0", "linli-sandbox-secret"


def serve_sandbox(port: int, users: int) -> None:
    """The sandbox with `users` followers and a /bench/summary route (runs in its own process)."""
    from collections import Counter

    from aiohttp import web

    from bot.sandbox.hub import SANDBOX
    from bot.sandbox.server import create_sandbox_app

    app = create_sandbox_app(APPID, SECRET, template_quota=10**9)
    state = app[SANDBOX].state
    for i in range(users):
        state.ensure_user(f"o_bench_{i:07d}")

    async def summary(_request):
        times = sorted(d.at for d in state.deliveries)
        counts = Counter(d.openid for d in state.deliveries)
        return web.json_response({"messages": len(times), "distinct": len(counts),
                                  "first": times[0] if times else 0, "last": times[-1] if times else 0})

    app.router.add_get("/bench/summary", summary)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def prepare(url: str, n: int) -> None:
    from sqlalchemy import insert

    from bot.delivery import Content, Scope, create_broadcast
    from storage.db import Database
    from storage.models import Resident

    db = Database(url)
    now = datetime.now(timezone.utc)
    try:
        for start in range(0, n, 10_000):
            rows = [{"openid": f"o_bench_{i:07d}", "ref": uuid.uuid4().hex, "subscribed": True, "created_at": now}
                    for i in range(start, min(n, start + 10_000))]
            async with db.transaction() as session:
                await (await session.connection()).execute(insert(Resident.__table__), rows)
        async with db.transaction() as session:
            await create_broadcast(session, category="notice", scope=Scope(), created_by="bench",
                                   content=Content("基准测试公示正文", title="基准测试", summary="基准测试"))
    finally:
        await db.dispose()


async def pg_admin(sql: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def database(kind: str, tmp: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp}/bench.db", None
    name = f"linli_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def run_one(kind: str, n: int, rate: float) -> dict:
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = database(kind, tmp)
        try:
            upgrade(url)
            asyncio.run(prepare(url, n))
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            sandbox = [PYTHON, "-m", "bench.broadcast", "--serve-sandbox", str(port), "--residents", str(n)]
            with process(sandbox, ready_url=f"{base}/sandbox/stats"):
                env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))},
                       "LINLI_DATABASE_URL": url, "LINLI_WECHAT_API_BASE": base,
                       "LINLI_DELIVERY_RATE": str(rate), "LINLI_DELIVERY_TEMPLATE_NOTICE": "TPL_BENCH",
                       "LINLI_DELIVERY_BATCH": "500", "LINLI_DELIVERY_LANES": "3",
                       "LINLI_DELIVERY_CONCURRENCY": "64", "LINLI_DELIVERY_EXPAND_BATCH": "20000"}
                started = time.monotonic()
                done = subprocess.run([PYTHON, "-m", "bot.delivery.worker", "--until-idle", "--json"], env=env,
                                      cwd=ROOT, capture_output=True, text=True, check=True)
                wall = time.monotonic() - started
                worker = json.loads(done.stdout.strip().splitlines()[-1])
                summary = json.loads(urllib.request.urlopen(f"{base}/bench/summary").read())
        finally:
            if pg_name:
                asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    span = summary["last"] - summary["first"]
    return {"db": kind, "residents": n, "rate_limit": rate or "none",
            "sustained_per_s": round((summary["messages"] - 1) / span, 1) if span else None,
            "end_to_end_per_s": round(summary["messages"] / wall, 1), "wall_s": round(wall, 1),
            "peak_rss_mb": worker["peak_rss_mb"], "sent": worker["sent"],
            "duplicates": summary["messages"] - summary["distinct"], "losses": n - summary["distinct"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0.0, help="LINLI_DELIVERY_RATE (0 = no limit)")
    parser.add_argument("--serve-sandbox", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        return serve_sandbox(args.serve_sandbox, args.residents)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        r = run_one(kind, args.residents, args.rate)
        print(f"{r['db']:<10} {r['residents']} residents, rate limit {r['rate_limit']}: "
              f"{r['sustained_per_s']} deliveries/s sustained, {r['end_to_end_per_s']}/s end to end "
              f"({r['wall_s']} s incl. start-up and expansion); sender peak RSS {r['peak_rss_mb']} MB; "
              f"duplicates {r['duplicates']}, losses {r['losses']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
