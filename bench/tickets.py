"""Ticket benchmark: 1,000 residents file complaints at the same moment through the webhook.

`linli serve` runs as a subprocess on a fresh SQLite file (demo organisation, residents bound beforehand). Each
resident sends 「投诉 <their complaint>」 and then 「确认」; all residents at once. One message in ten is
delivered twice (WeChat's retry with the same MsgId). Afterwards the database must hold exactly one ticket per
resident with distinct numbers: tickets created = complaints sent, none lost, none doubled.

    .venv/bin/python bench/tickets.py [--residents 1000] [--connections 1000] [--retry-share 0.1]

Prints throughput (complaints filed per second, webhook requests per second) and request latency (p50, p99)."""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, free_port, linli, percentile, rss_mb, wait_http  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.simulator import WeChatSimulator, text_xml  # noqa: E402

PLACES = ["1号楼", "2号楼", "3号楼", "5号楼", "8号楼", "地下车库", "东门", "北区"]
PROBLEMS = ["楼道灯坏了好几天", "电梯经常故障停运", "水管漏水渗到楼下", "垃圾清运不及时有异味", "车位被长期占用",
            "物业费收费标准没有公示", "晚上广场舞噪音太大", "单元门门禁坏了"]


def seed_residents(path: Path, count: int) -> list[str]:
    """Bound residents spread over the demo estates (direct SQL: the benchmark measures filing, not binding)."""
    db = sqlite3.connect(path)
    estates = db.execute("SELECT id, community_id FROM estates ORDER BY id").fetchall()
    openids = [f"o_ticket_bench_{i:05d}" for i in range(count)]
    rows = [(o, f"ref{i:029d}", *estates[i % len(estates)][::-1], "2026-11-01 00:00:00", 1)
            for i, o in enumerate(openids)]
    db.executemany("INSERT INTO residents (openid, ref, community_id, estate_id, created_at, subscribed) "
                   "VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return openids


async def resident(http, sim: WeChatSimulator, url: str, openid: str, index: int, rng: random.Random,
                   retry_share: float, stats: dict) -> None:
    text = f"投诉 {PLACES[index % len(PLACES)]}{PROBLEMS[index % len(PROBLEMS)]}（住户{index}）"
    for content in (text, "确认"):
        query, body = sim.sign(text_xml(openid, content, msg_id=10**12 + index * 2 + (content == "确认")))
        copies = 2 if rng.random() < retry_share else 1
        for copy in range(copies):
            async with stats["gate"]:  # at most --connections requests in flight; latency counts from sending
                started = time.perf_counter()
                async with http.post(url, params=query, data=body.encode()) as resp:
                    raw = await resp.text()
                stats["latency"].append(time.perf_counter() - started)
            stats.setdefault("by_kind", {}).setdefault((content[:2], copy), []).append(stats["latency"][-1])
            stats["requests"] += 1
            stats["retries"] += copy
            if resp.status != 200:
                stats["errors"] += 1
            elif raw == "success":
                stats["late"] += 1
            elif content == "确认" and copy == 0 and "JF" not in sim.read_reply(200, raw, query).text:
                stats["unexpected"].append(sim.read_reply(200, raw, query).text)


def verify(path: Path, openids: list[str]) -> dict:
    db = sqlite3.connect(path)
    tickets = db.execute("SELECT number, resident_ref FROM tickets").fetchall()
    per_resident = db.execute("SELECT COUNT(*) FROM (SELECT resident_ref FROM tickets GROUP BY resident_ref "
                              "HAVING COUNT(*) > 1)").fetchone()[0]
    db.close()
    numbers = [n for n, _ in tickets]
    return {"tickets": len(tickets), "distinct_numbers": len(set(numbers)),
            "residents_with_ticket": len({r for _, r in tickets}), "doubled": per_resident,
            "lost": len(openids) - len({r for _, r in tickets})}


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=1000,
                        help="requests in flight at once (default: every resident at the same moment)")
    parser.add_argument("--retry-share", type=float, default=0.1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="linli-tickets-bench-"))
    path = folder / "bench.db"
    port = free_port()
    env = {"LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{path}", "LINLI_PORT": str(port), "LINLI_LOG_LEVEL": "WARNING",
           "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
    linli("db", "upgrade", env=env)
    linli("org", "demo", env=env)
    openids = seed_residents(path, args.residents)
    settings = Settings()
    url = f"http://127.0.0.1:{port}/wechat"
    stats = {"latency": [], "requests": 0, "retries": 0, "errors": 0, "late": 0, "unexpected": [],
             "gate": asyncio.Semaphore(args.connections)}
    log = open(folder / "server.log", "wb")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen([PYTHON, "-m", "bot.cli", "serve"], env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        sim = WeChatSimulator(url, settings.wechat_token, settings.wechat_appid)
        rng = random.Random(5)
        connector = aiohttp.TCPConnector(limit=args.connections + 8)
        async with aiohttp.ClientSession(connector=connector) as http:
            began = time.perf_counter()
            await asyncio.gather(*(resident(http, sim, url, o, i, rng, args.retry_share, stats)
                                   for i, o in enumerate(openids)))
            elapsed = time.perf_counter() - began
        await sim.close()
        peak = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    found = verify(path, openids)
    lat = stats["latency"]
    print(f"tickets sqlite {args.residents} residents, {args.connections} requests in flight: "
          f"{args.residents / elapsed:.1f} complaints filed/s, {stats['requests'] / elapsed:.1f} webhook req/s "
          f"({stats['requests']} requests incl. {stats['retries']} WeChat retries) in {elapsed:.1f} s; "
          f"latency p50 {percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms; "
          f"late (success + push) {stats['late']}, errors {stats['errors']}; server peak RSS {peak:.1f} MB")
    print(f"tickets created {found['tickets']} / complaints sent {args.residents}: distinct numbers "
          f"{found['distinct_numbers']}, lost {found['lost']}, doubled {found['doubled']}")
    print(f"server log: {folder / 'server.log'}")
    for kind, values in sorted(stats.get("by_kind", {}).items()):
        label = f"{'投诉' if kind[0] == '投诉' else '确认'}{'（重发）' if kind[1] else ''}"
        print(f"  {label}: n={len(values)} p50 {percentile(values, 50) * 1000:.0f} ms "
              f"p99 {percentile(values, 99) * 1000:.0f} ms max {max(values) * 1000:.0f} ms")
    if stats["unexpected"]:
        print(f"unexpected replies: {len(stats['unexpected'])}, e.g. {stats['unexpected'][0]!r}")
    ok = (found["tickets"] == found["distinct_numbers"] == args.residents and not found["doubled"]
          and not found["lost"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
