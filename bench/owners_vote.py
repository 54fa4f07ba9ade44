"""Owners' vote benchmark: an estate of 3,000 rooms (roster imported from a generated CSV through
`handlers.owners.roster_file`), 2,000 verified owners (500 of them holding two rooms; 500 rooms the developer's)
and 100 family members registered as proxies of the first 100 owners, all voting on one motion in chat through
the webhook of `linli serve` (a subprocess, SQLite): 「表决」, a choice, 「确认」 (3 messages each; owner and proxy
of the same rooms race, and the first confirmed ballot counts).

Prints ballots/s, message throughput, p50/p99 reply latency, and checks that every room reported 「已计入」 has
exactly one stored ballot, that no room was counted twice, that it all took less than 10 minutes, and that the
tally at the close equals a recount.

    .venv/bin/python bench/owners_vote.py [--rooms 3000] [--owners 2000] [--proxies 100] [--concurrency 200]
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

from bench.common import PYTHON, TimedChat, free_port, linli, percentile, process, rss_mb  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.simulator import WeChatSimulator  # noqa: E402

ESTATE = "HX-YYL-YJ-02"  # 友谊新城: the demo history leaves its roster empty
LIMIT_SECONDS = 600


def roster_csv(rooms: int, owners: int) -> bytes:
    """Room i (building 1 + i // 100): owner i for i < owners; owner i - owners for the next owners // 4 rooms
    (those owners hold two rooms); the rest have no owner on record."""
    rng = random.Random(20)
    lines = ["小区编码,楼号,单元,房号,专有部分面积,业主姓名,联系电话"]
    second = owners // 4
    for i in range(rooms):
        building, unit, room = 1 + i // 100, 1 + (i % 100) // 50, 101 + i % 50
        area = f"{rng.randint(4500, 14500) / 100:.2f}"
        if i < owners:
            who = f"业主{i:05d},139{i:08d}"
        elif i < owners + second:
            j = i - owners
            who = f"业主{j:05d},139{j:08d}"
        else:
            who = ","
        lines.append(f"{ESTATE},{building},{unit},{room},{area},{who}")
    return ("\n".join(lines) + "\n").encode("utf-8")


async def seed(url: str, rooms: int, owners: int, proxies: int) -> int:
    from sqlalchemy import insert, select

    from handlers.owners import motions, roster, roster_file
    from storage.db import Database
    from storage.models import Estate, Resident, new_ref
    from storage.owner_models import OwnerLink, RosterOwner

    db = Database(url)
    now = datetime.now(timezone.utc)
    try:
        async with db.transaction() as session:
            await roster.apply_plan(session, roster_file.parse(roster_csv(rooms, owners), "roster.csv"), now)
            estate = await session.scalar(select(Estate).where(Estate.code == ESTATE))
            ids = {name: oid for name, oid in (await session.execute(
                select(RosterOwner.name, RosterOwner.id).where(RosterOwner.estate_id == estate.id))).all()}
            people = [(f"o_bench_ow_{i:06d}", f"业主{i:05d}") for i in range(owners)]
            people += [(f"o_bench_px_{i:06d}", f"业主{i:05d}") for i in range(proxies)]
            rows = [{"openid": openid, "ref": new_ref(), "community_id": estate.community_id,
                     "estate_id": estate.id, "role": "owner", "subscribed": True, "bound_at": now,
                     "created_at": now} for openid, _ in people]
            await session.execute(insert(Resident), rows)
            resident_ids = dict((await session.execute(select(Resident.openid, Resident.id))).all())
            await session.execute(insert(OwnerLink), [
                {"resident_id": resident_ids[openid], "owner_id": ids[name], "status": "verified",
                 "method": "proxy" if "_px_" in openid else "staff", "proxy_name": "家属" if "_px_" in openid else None,
                 "attempts": 0, "verified_at": now, "verified_by": "staff:bench", "created_at": now}
                for openid, name in people])
            draft = motions.check_draft("续聘物业服务企业（基准测试）", "是否同意续聘。", "ordinary",
                                        now - timedelta(minutes=1), now + timedelta(days=1), [],
                                        [str(b) for b in range(1, 1 + rooms // 100 + 1)])
            motion = await motions.create(session, estate, draft, author="bench", now=now)
            return motion.id
    finally:
        await db.dispose()


async def verify_store(url: str, motion_id: int) -> dict:
    from sqlalchemy import func, select

    from handlers.owners import motions, rules
    from storage.db import Database
    from storage.owner_models import OwnerBallot

    db = Database(url)
    try:
        async with db.transaction() as session:
            total = await session.scalar(select(func.count()).select_from(OwnerBallot)
                                         .where(OwnerBallot.motion_id == motion_id))
            distinct = await session.scalar(select(func.count(func.distinct(OwnerBallot.room_id)))
                                            .where(OwnerBallot.motion_id == motion_id))
        async with db.transaction() as session:
            motion = await session.get(motions.Motion, motion_id)
            motion.closes_at = datetime.now(timezone.utc)
        async with db.transaction() as session:
            motion = await session.get(motions.Motion, motion_id)
            await motions.close(session, motion, rules.load_rule("tianjin"), datetime.now(timezone.utc),
                                base_url=None, settings=Settings())
            recount = await motions.recount(session, motion)
            same = {k: motion.result[k] for k in recount} == recount
            return {"total": total, "distinct": distinct, "recount_equal": same, "verdict": motion.result["verdict"],
                    "area": motion.result["area"], "heads": motion.result["heads"]}
    finally:
        await db.dispose()


async def run(url: str, owners: int, proxies: int, concurrency: int, pid: int) -> dict:
    base = Settings()
    counted = 0
    confirmed = 0
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(7)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as http:
        sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid, session=http)
        chat = TimedChat(sim)
        say = chat.say

        async def voter(openid: str) -> None:
            nonlocal counted, confirmed
            async with gate:
                await say(openid, "表决")
                await say(openid, rng.choice(["1", "1", "1", "2", "3"]))
                reply = await say(openid, "确认")
            if "表决结果已记录" in reply:
                confirmed += 1
                counted += reply.count("：已计入")

        voters = [f"o_bench_ow_{i:06d}" for i in range(owners)] + [f"o_bench_px_{i:06d}" for i in range(proxies)]
        rng.shuffle(voters)
        began = time.perf_counter()
        await asyncio.gather(*(voter(openid) for openid in voters))
        elapsed = time.perf_counter() - began
    return {"elapsed": elapsed, "latencies": chat.latencies, "failures": chat.failures, "counted": counted,
            "confirmed": confirmed, "rss": rss_mb(pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=3000)
    parser.add_argument("--owners", type=int, default=2000)
    parser.add_argument("--proxies", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=200, help="voters in a dialog at the same time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'owners.db'}"
        port = free_port()
        env = {"LINLI_DATABASE_URL": db_url, "LINLI_PORT": str(port), "LINLI_LOG_LEVEL": "WARNING",
               "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
        linli("db", "upgrade", env=env)
        linli("org", "demo", env=env)
        motion_id = asyncio.run(seed(db_url, args.rooms, args.owners, args.proxies))
        print(f"server: linli serve; estate of {args.rooms} rooms, {args.owners} owners + {args.proxies} proxies, "
              f"concurrency {args.concurrency}, SQLite", flush=True)
        with process([PYTHON, "-m", "bot.cli", "serve"], env, f"http://127.0.0.1:{port}/healthz",
                     log=Path(tmp) / "server.log") as proc:
            result = asyncio.run(run(f"http://127.0.0.1:{port}/wechat", args.owners, args.proxies,
                                     args.concurrency, proc.pid))
        stored = asyncio.run(verify_store(db_url, motion_id))
    lat = result["latencies"]
    print(f"ballots: {result['confirmed']} confirmations in {result['elapsed']:.1f} s = "
          f"{result['confirmed'] / result['elapsed']:.0f} confirmations/s, {result['counted']} rooms counted; "
          f"{len(lat)} messages = {len(lat) / result['elapsed']:.0f} msg/s")
    print(f"reply latency: p50 {percentile(lat, 50) * 1000:.1f} ms  p99 {percentile(lat, 99) * 1000:.1f} ms  "
          f"max {max(lat) * 1000:.1f} ms; server peak RSS {result['rss']:.0f} MB; request failures "
          f"{result['failures']}")
    print(f"stored ballots {stored['total']}, distinct rooms {stored['distinct']}, rooms reported counted "
          f"{result['counted']}; result {stored['verdict']}; area {stored['area']}; heads {stored['heads']}; "
          f"recount equal: {stored['recount_equal']}")
    ok = (stored["total"] == stored["distinct"] == result["counted"] > 0 and stored["recount_equal"]
          and result["confirmed"] == args.owners + args.proxies
          and result["elapsed"] < LIMIT_SECONDS and result["failures"] == 0)
    print("check:", "OK" if ok else "MISMATCH")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
