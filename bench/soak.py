"""Soak: mixed resident traffic against `linli serve --workers 2` + `linli worker` on PostgreSQL while a
city-wide broadcast and a survey run, then the reconciliation.

    .venv/bin/python -m bench.soak                               # 30 min, 100 msg/s, 20,000 of 100,000 residents chat
    .venv/bin/python -m bench.soak --minutes 2 --rate 20 --residents 5000 --active 1000     # a short proof run

Residents (`o_city_…`, all bound owners) ask questions, file complaints (「投诉 …」 + 「确认」), vote in the survey
(7 messages each, every voter once), query their tickets and mute/unmute categories, at `--rate` messages/s (open
loop; WeChat's retries on errors). Meanwhile one broadcast goes to every resident and the survey's invitation to
its community, paced by a delivery rate that spreads them over the run (`--delivery-rate`, default auto).

Every minute: throughput, p50/p99 latency, late/busy/failed answers, deliveries finished, and the current RSS of
every process (supervisor, each web worker, the delivery worker, the sandbox). At the end, after the broadcasts
drain: every complaint confirmed to a resident is exactly one ticket, every confirmed vote is counted once, every
broadcast recipient has exactly one final delivery status, and RSS growth per process. Exit status 1 on a mismatch.
Needs PostgreSQL (LINLI_TEST_PG_URL, default postgres@127.0.0.1:5432); a fresh database is created and dropped.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cityscale import (  # noqa: E402
    SURVEY_COMMUNITY,
    Cluster,
    Traffic,
    create_broadcast,
    delivery_counts,
    drop_database,
    format_rss,
    log,
    new_database,
    prepare,
    reconcile,
    summary,
    wait_settled,
)


async def community_size(url: str) -> int:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            return await session.scalar(text(
                "SELECT COUNT(*) FROM residents r JOIN communities c ON c.id = r.community_id WHERE c.code = :c"),
                {"c": SURVEY_COMMUNITY})
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=100, help="resident messages per second")
    parser.add_argument("--residents", type=int, default=100_000, help="residents (all receive the broadcast)")
    parser.add_argument("--active", type=int, default=20_000, help="residents who chat")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--lanes", type=int, default=64, help="resident scripts running at once")
    parser.add_argument("--delivery-rate", type=float, default=0, help="LINLI_DELIVERY_RATE (default: auto)")
    parser.add_argument("--drain", type=float, default=900, help="seconds to wait for the broadcasts to finish")
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    args = parser.parse_args()
    seconds = args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="linli-soak-"))
    url, name = new_database("linli_soak")
    ok = False
    try:
        began = time.monotonic()
        world = prepare(url, args.residents, args.active)
        invites = asyncio.run(community_size(url))
        rate = args.delivery_rate or max(20.0, round((args.residents + invites) / (0.8 * seconds), 1))
        log(f"soak: {args.minutes:g} min at {args.rate:g} msg/s from {args.active} of {args.residents} residents, "
            f"{args.web_workers} web workers + 1 delivery worker on PostgreSQL; broadcast to {args.residents} and "
            f"survey invitation to {invites} at {rate:g} deliveries/s; seeded in {time.monotonic() - began:.0f} s; "
            f"logs in {folder}")
        with Cluster(url, folder, users=args.residents, active=args.active, web_workers=args.web_workers,
                     delivery_rate=rate).start() as cluster:
            log(f"processes: {cluster.pids()}")
            big = asyncio.run(create_broadcast(url, "城市级压测公示：本小区二次供水设施改造方案公示，请查看。"))
            traffic = Traffic(f"{cluster.base}/wechat", world, rate=args.rate, lanes=args.lanes)
            rss_seen: dict[str, list[float]] = {}

            async def minute(index: int, window) -> None:
                rss = cluster.rss()
                for proc, mb in rss.items():
                    rss_seen.setdefault(proc, []).append(mb)
                try:
                    done = await asyncio.wait_for(delivery_counts(url), 30)
                    final = f"{done['sent'] + done['skipped'] + done['failed']} (failed {done['failed']})"
                except Exception as exc:  # a figure missing is no reason to abandon the run
                    final = f"? ({type(exc).__name__})"
                span = min(traffic.window_seconds, seconds - index * traffic.window_seconds)
                log(f"min {index + 1:>3}: {window.line(span)} | deliveries final {final} | RSS MB {format_rss(rss)}")

            asyncio.run(traffic.run(seconds, on_window=minute))
            total = traffic.total
            log(f"total: {total.messages} messages in {seconds:.0f} s: {total.line(seconds)}; scripts "
                f"{dict(traffic.ledger.scripts)}")
            log(f"waiting up to {args.drain:.0f} s for the broadcasts to finish …")
            open_, pending = asyncio.run(wait_settled(url, args.drain))
            sandbox = summary(cluster)
            checks = asyncio.run(reconcile(url, traffic.ledger, world, big_broadcast=big, sandbox=sandbox))
            log(f"reconciliation ({'drained' if not open_ and not pending else f'{open_} broadcasts / {pending} deliveries still open'}):")
            for check in checks:
                log(check.line())
            log("RSS growth (MB, first minute → last minute, max):")
            for proc, values in rss_seen.items():
                log(f"  {proc:<10} {values[0]:7.0f} → {values[-1]:7.0f}  max {max(values):7.0f}")
            ok = all(c.ok for c in checks)
    finally:
        if args.keep:
            log(f"kept database {url} and logs in {folder}")
        else:
            drop_database(name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
