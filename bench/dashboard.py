"""Dashboard benchmark: many staff opening the console dashboard at once, on a big database.

Builds a database with an organisation of ~100 communities (the demo tree plus generated districts), 100,000
residents and, once the tickets feature exists, 20,000 tickets (`handlers.tickets.bench.seed` is called when
present: the hook for later); creates 100 staff accounts of every level with live sessions; starts linli with
the console in a separate process; then measures

  1. a cold burst: every staff member requests /console/ at the same moment (caches empty),
  2. an open loop: every staff member reloads the dashboard once per --interval seconds (random phase; latency
     counted from the scheduled moment, so a slow server cannot hide its queue), for --seconds, and
  3. a closed loop: --concurrency staff reloading the dashboard back to back, as fast as the server answers
     (a stress figure: far beyond what 100 people clicking produce).

    .venv/bin/python bench/dashboard.py [--residents 100000] [--tickets 20000] [--staff 100] [--seconds 10]
                                        [--database-url postgresql+asyncpg://...]   (default: a temp SQLite file)
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, free_port, percentile, process, rss_mb  # noqa: E402

LEVEL_MIX = (("community", 0.6), ("street", 0.25), ("district", 0.1), ("admin", 0.05))


def generated_org(districts: int = 2, streets: int = 6, communities: int = 8) -> str:
    lines = ["districts:"]
    for d in range(districts):
        lines += [f"  - code: GD{d}", f"    name: 测试区{d}", "    streets:"]
        for s in range(streets):
            lines += [f"      - code: GD{d}-S{s}", f"        name: 测试街道{d}-{s}", "        communities:"]
            for c in range(communities):
                code = f"GD{d}-S{s}-C{c}"
                lines += [f"          - code: {code}", f"            name: 测试社区{d}-{s}-{c}", "            estates:"]
                lines += [f"              - {{code: {code}-E{e}, name: 小区{e}, households: {600 + 97 * e}}}"
                          for e in range(3)]
    return "\n".join(lines) + "\n"


async def seed(url: str, residents: int, tickets: int, staff_count: int) -> list[str]:
    """Fill the database; returns one session cookie value per staff member."""
    from sqlalchemy import insert, select

    from storage.db import Database
    from storage.models import Community, Estate, Resident, Staff, StaffLevel, Street
    from storage.orgimport import apply_org_plan, parse_org_bytes
    from storage.repositories import staff as staff_repo
    from storage.repositories.org import load_demo

    rng, now = random.Random(8), datetime.now(timezone.utc)
    db = Database(url)
    async with db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(generated_org().encode(), "yaml", "bench.yaml"))
        estates = (await session.execute(select(Estate.id, Estate.community_id))).all()
        tree = (await session.execute(select(Community.id, Community.street_id, Street.district_id)
                                      .join(Street))).all()
    started = time.perf_counter()
    for start in range(0, residents, 5000):
        rows = []
        for i in range(start, min(residents, start + 5000)):
            estate, community = rng.choice(estates)
            bound = rng.random() < 0.85
            rows.append({"openid": f"o_bench_{i:07d}", "ref": f"{i:032x}", "subscribed": True,
                         "community_id": community if bound else None, "estate_id": estate if bound else None,
                         "building": str(rng.randint(1, 30)) if bound else None,
                         "room": str(rng.randint(101, 2604)) if bound else None,
                         "bound_at": now - timedelta(days=rng.randint(0, 400)) if bound else None,
                         "followed_at": now - timedelta(days=rng.randint(0, 400)),
                         "last_message_at": now - timedelta(days=rng.randint(0, 200)), "created_at": now})
        async with db.transaction() as session:
            await session.execute(insert(Resident), rows)
    print(f"seeded {residents:,} residents in {time.perf_counter() - started:.1f}s")
    await seed_tickets(db, tickets, [c for c, _, _ in tree], rng)
    cookies = []
    async with db.transaction() as session:
        for i in range(staff_count):
            level = _pick_level(rng)
            community, street, district = rng.choice(tree)
            ids = {"community": (community, street, district), "street": (None, street, district),
                   "district": (None, None, district), "admin": (None, None, None)}[level]
            row = Staff(username=f"bench{i:03d}", display_name=f"压测{i}", level=StaffLevel(level), active=True,
                        community_id=ids[0], street_id=ids[1], district_id=ids[2])
            session.add(row)
            await session.flush()
            cookies.append(await staff_repo.create_session(session, row.id, now, timedelta(hours=12)))
    await db.dispose()
    return cookies


def _pick_level(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for level, share in LEVEL_MIX:
        total += share
        if roll < total:
            return level
    return "community"


async def seed_tickets(db, count: int, community_ids: list[int], rng: random.Random) -> None:
    """The hook for the tickets feature: `handlers.tickets.bench.seed(session, count, community_ids, rng)`."""
    try:
        from handlers.tickets.bench import seed as seed_feature  # type: ignore[import-not-found]
    except ImportError:
        print(f"tickets: feature not present yet — {count:,} tickets not seeded")
        return
    async with db.transaction() as session:
        await seed_feature(session, count, community_ids, rng)
    print(f"seeded {count:,} tickets")


def serve(url: str, port: int) -> None:
    """Run linli with the console (used as the benchmark's server process)."""
    from aiohttp import web

    from bot.app import build_services, create_app
    from bot.serve import freeze_startup_objects
    from bot.settings import Settings

    settings = Settings(database_url=url, port=port)
    app = create_app(settings, services=build_services(settings, load_knowledge=False), routers=[])
    app.on_startup.append(freeze_startup_objects)  # as `linli serve` does
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def _get(http: aiohttp.ClientSession, url: str, cookie: str) -> float:
    started = time.perf_counter()
    async with http.get(url, headers={"Cookie": f"linli_session={cookie}"}, allow_redirects=False) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"dashboard answered {resp.status}")
    return time.perf_counter() - started


async def _open_loop(http, url: str, cookies: list[str], seconds: float, interval: float) -> list[float]:
    latencies: list[float] = []
    start = time.perf_counter() + 0.1

    async def staff(cookie: str, phase: float) -> None:
        due = start + phase
        while due < start + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _get(http, url, cookie)
            latencies.append(time.perf_counter() - due)
            due += interval

    rng = random.Random(3)
    await asyncio.gather(*(staff(c, rng.random() * interval) for c in cookies))
    return latencies


async def load(base: str, cookies: list[str], seconds: float, concurrency: int, interval: float) -> None:
    url = base + "/console/"
    connector = aiohttp.TCPConnector(limit=max(concurrency, len(cookies)) + 10)
    async with aiohttp.ClientSession(connector=connector) as http:
        burst = await asyncio.gather(*(_get(http, url, c) for c in cookies))
        print(_line(f"cold burst ({len(cookies)} staff at once)", burst, None))
        started = time.perf_counter()
        opened = await _open_loop(http, url, cookies, seconds, interval)
        print(_line(f"open loop ({len(cookies)} staff, 1 view/{interval:g}s each)", opened,
                    time.perf_counter() - started))
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            cookie = cookies[i % len(cookies)]
            while time.perf_counter() < deadline:
                latencies.append(await _get(http, url, cookie))

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        print(_line(f"closed loop ({concurrency} concurrent staff)", latencies, time.perf_counter() - started))


def _line(label: str, lat: list[float], elapsed: float | None) -> str:
    rate = f"{len(lat) / elapsed:7.0f} req/s  " if elapsed else ""
    return (f"{label:<40} {rate}p50 {percentile(lat, 50) * 1000:7.1f} ms  p95 {percentile(lat, 95) * 1000:7.1f} ms  "
            f"p99 {percentile(lat, 99) * 1000:7.1f} ms  max {max(lat) * 1000:7.1f} ms  n={len(lat)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0, help="open loop: seconds between one staff's views")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.database_url, args.serve)
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        cookies = asyncio.run(seed(url, args.residents, args.tickets, args.staff))
        port = free_port()
        server = [PYTHON, str(Path(__file__).resolve()), "--serve", str(port), "--database-url", url]
        with process(server, ready_url=f"http://127.0.0.1:{port}/console/login") as proc:
            print(f"database: {url.split('://')[0]}  residents {args.residents:,}  staff {args.staff}")
            asyncio.run(load(f"http://127.0.0.1:{port}", cookies, args.seconds, args.concurrency, args.interval))
            print(f"server peak RSS {rss_mb(proc.pid):.0f} MB")


if __name__ == "__main__":
    main()
