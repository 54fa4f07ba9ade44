"""Failure drills against `linli serve --workers 2` + `linli worker` on PostgreSQL under resident traffic; each
prints its own figures (10-second windows, then the drill's numbers and the reconciliation) and exits 1 on a
mismatch.

    .venv/bin/python -m bench.drills kill-web         # kill -9 a web worker under load
    .venv/bin/python -m bench.drills kill-scheduler   # kill -9 the delivery worker holding the scheduler lease
    .venv/bin/python -m bench.drills pg-restart       # restart PostgreSQL under load
    .venv/bin/python -m bench.drills sandbox-faults   # WeChat answers -1 to 10% of calls for 5 minutes
    .venv/bin/python -m bench.drills all --minutes 2  # every drill, short

Common options: --minutes (length of each drill, default 3; sandbox-faults: 5 minutes of faults plus a minute
before and after unless --fault-minutes is given), --rate (resident messages/s, default 30), --residents (5,000),
--active (2,000 who chat). The failure comes a third of the way in (sandbox-faults: after the first minute).

kill-web: the killed worker's in-flight requests fail and are retried as WeChat does (same MsgId, after 1 s); no
message may be lost after its retries, and no retry may have a second effect (complaints, votes reconciled).
kill-scheduler: two `linli worker` processes; the lease holder is killed while small broadcasts are scheduled every
5 s and a survey is due to open after the kill: another worker must take over within a minute, each broadcast
starts once, the survey opens once and is announced once.
pg-restart: by default a private PostgreSQL cluster (initdb in a temporary folder, its own port) is used so the
shared server is never disturbed, and it is really stopped (`pg_ctl stop -m fast`), left down `--down` seconds
(default 5) and started again. With `--mode terminate` (or when no private cluster can be made) the shared server
stays up and every connection to the drill's database is killed (`pg_terminate_backend`) for `--down` seconds: a
simulation of a restart, said so in the output. Figures: answers during the outage, 5xx (must be 0), readiness,
time to recover, and nothing lost.
sandbox-faults: the sandbox answers errcode -1 to 10% of all API calls while a broadcast to every resident is
being sent; figures: faults fired, retries, failures (expected 0), duplicates, and webhook latency unaffected.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cityscale import (  # noqa: E402
    PG_ADMIN,
    Cluster,
    Traffic,
    Window,
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
from bench.common import percentile  # noqa: E402

WINDOW = 10.0


def windows_printer(cluster: Cluster, url: str):
    async def show(index: int, window: Window) -> None:
        try:
            done = await asyncio.wait_for(delivery_counts(url), 5)
            final = str(done["sent"] + done["skipped"] + done["failed"])
        except Exception as exc:  # the database may be away in a drill
            final = f"? ({type(exc).__name__})"
        log(f"  t={index * WINDOW:5.0f}s {window.line(WINDOW)} | deliveries final {final} | "
            f"RSS {format_rss(cluster.rss())}")
    return show


def print_checks(checks) -> bool:
    log("  reconciliation:")
    for check in checks:
        log("  " + check.line())
    return all(c.ok for c in checks)


async def lease_holder(url: str) -> int | None:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            row = (await session.execute(text(
                "SELECT owner, lease_until FROM delivery_leases WHERE name = 'scheduler'"))).first()
    finally:
        await db.dispose()
    if row is None or row[1] is None or row[1] < datetime.now(timezone.utc):
        return None
    return int(row[0].split(":")[1])


def fresh_health(base: str) -> dict | None:
    try:
        import json

        return json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=2).read())
    except Exception:
        return None


# ---- kill -9 a web worker ----
def kill_web(args, admin: str = PG_ADMIN) -> bool:
    seconds = args.minutes * 60
    url, name = new_database("linli_drill_web", admin)
    folder = Path(tempfile.mkdtemp(prefix="linli-drill-web-"))
    try:
        world = prepare(url, args.residents, args.active)
        with Cluster(url, folder, users=args.residents, active=args.active).start() as cluster:
            log(f"kill-web: {args.rate:g} msg/s for {seconds:.0f} s; processes: {cluster.pids()}; logs in {folder}")
            traffic = Traffic(f"{cluster.base}/wechat", world, rate=args.rate, lanes=args.lanes,
                              window_seconds=WINDOW)
            figures: dict = {}

            async def inject(tr: Traffic) -> None:
                await asyncio.sleep(seconds / 3)
                before = cluster.web_pids()
                victim = before[0]
                killed = time.monotonic()
                os.kill(victim, signal.SIGKILL)
                figures.update(victim=victim, at=killed - tr.t0)
                while not tr.stop_event.is_set():
                    pids = cluster.web_pids()
                    fresh = [p for p in pids if p not in before]
                    if len(pids) == len(before) and fresh:
                        answered = await asyncio.to_thread(_answered_by, cluster.base, fresh[0], 5.0)
                        if answered:
                            figures.update(replacement=fresh[0], restart=time.monotonic() - killed)
                            return
                    await asyncio.sleep(0.1)

            asyncio.run(traffic.run(seconds, on_window=windows_printer(cluster, url), on_start=inject))
            open_, pending = asyncio.run(wait_settled(url, args.drain))
            checks = asyncio.run(reconcile(url, traffic.ledger, world, sandbox=summary(cluster)))
            total = traffic.total
            supervisor_log = (folder / "web.log").read_text(errors="replace")
        log(f"  figures: killed web worker pid {figures.get('victim')} at t={figures.get('at', 0):.1f}s; replacement "
            f"pid {figures.get('replacement')} answering after {figures.get('restart', float('nan')):.1f}s "
            f"(supervisor logged it: {'yes' if '被信号 SIGKILL 结束' in supervisor_log else 'NO'})")
        log(f"  requests: {total.messages} messages, attempts failed {total.attempts_failed} (in flight at the kill), "
            f"retried {total.retries}, lost after retries {total.failed}, 5xx {total.http5xx}, late {total.late}, "
            f"busy {total.busy}")
        ok = print_checks(checks) and total.failed == 0 and total.http5xx == 0 and "restart" in figures
        return ok
    finally:
        drop_database(name, admin)


def _answered_by(base: str, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fresh_health(base)
        if found and found.get("pid") == pid:
            return True
    return False


# ---- kill -9 the scheduler ----
async def _schedule_small(url: str, residents: list[int], n: int, due_in: float) -> int:
    return await create_broadcast(url, f"演练定时群发 #{n}", residents=residents, title=f"演练 #{n}",
                                  send_at=datetime.now(timezone.utc) + timedelta(seconds=due_in))


async def _survey_due(url: str, opens_in: float) -> int:
    from sqlalchemy import select

    from bench.survey import QUESTIONS
    from handlers.surveys import service
    from storage.db import Database
    from storage.models import Community

    db = Database(url)
    now = datetime.now(timezone.utc)
    try:
        async with db.transaction() as session:
            community = await session.scalar(select(Community.id).where(Community.code == "HX-MJ-LS"))
            survey = await service.create(
                session, template="custom", subject_type="free", subject="接管演练", title="接管演练调查",
                scope_level="community", scope_ids=[community], opens_at=now + timedelta(seconds=opens_in),
                closes_at=now + timedelta(days=1), created_by="bench", now=now, questions=QUESTIONS)
            await service.schedule(session, survey, now)
            return survey.id
    finally:
        await db.dispose()


async def _survey_announcements(url: str, survey_id: int) -> tuple[int, int]:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            opened = await session.scalar(text(
                "SELECT COUNT(*) FROM survey_log WHERE survey_id = :s AND event = 'opened'"), {"s": survey_id})
            invites = await session.scalar(text("SELECT COUNT(*) FROM broadcasts WHERE source = :src"),
                                           {"src": f"survey:{survey_id}:invite"})
            return opened, invites
    finally:
        await db.dispose()


async def _resident_ids(url: str) -> list[int]:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            return list((await session.execute(text("SELECT id FROM residents ORDER BY id"))).scalars())
    finally:
        await db.dispose()


def kill_scheduler(args, admin: str = PG_ADMIN) -> bool:
    seconds = args.minutes * 60
    url, name = new_database("linli_drill_sched", admin)
    folder = Path(tempfile.mkdtemp(prefix="linli-drill-sched-"))
    try:
        world = prepare(url, args.residents, args.active)
        ids = asyncio.run(_resident_ids(url))
        with Cluster(url, folder, users=args.residents, active=args.active,
                     extra={"LINLI_DELIVERY_LEASE_SECONDS": "20"}).start(delivery_workers=2) as cluster:
            log(f"kill-scheduler: {args.rate:g} msg/s for {seconds:.0f} s; processes: {cluster.pids()}; logs in {folder}")
            traffic = Traffic(f"{cluster.base}/wechat", world, rate=args.rate, lanes=args.lanes,
                              window_seconds=WINDOW)
            figures: dict = {"scheduled": []}

            async def inject(tr: Traffic) -> None:
                import random

                rng = random.Random(3)
                holder = None
                while holder is None:
                    holder = await lease_holder(url)
                    await asyncio.sleep(0.5)
                figures["first"] = holder
                kill_at = seconds / 3
                figures["survey"] = await _survey_due(url, kill_at - (time.monotonic() - tr.t0) + 5)
                n, killed = 0, None
                while not tr.stop_event.is_set():
                    elapsed = time.monotonic() - tr.t0
                    if killed is None and elapsed >= kill_at:
                        holder = await lease_holder(url) or holder
                        figures["victim"] = holder
                        os.kill(holder, signal.SIGKILL)
                        killed = time.monotonic()
                        figures["at"] = killed - tr.t0
                    if killed is not None and "takeover" not in figures:
                        now_holder = await lease_holder(url)
                        if now_holder is not None and now_holder != figures["victim"]:
                            figures.update(takeover=time.monotonic() - killed, successor=now_holder)
                    if n * 5 <= elapsed:
                        figures["scheduled"].append(await _schedule_small(url, rng.sample(ids, 50), n, 5))
                        n += 1
                    await asyncio.sleep(0.5)

            asyncio.run(traffic.run(seconds, on_window=windows_printer(cluster, url), on_start=inject))
            survey_id = figures["survey"]
            deadline = time.monotonic() + 120  # the survey sweep runs every 60 s on the leader
            while time.monotonic() < deadline and asyncio.run(_survey_announcements(url, survey_id))[0] == 0:
                time.sleep(2)
            opened, invites = asyncio.run(_survey_announcements(url, survey_id))
            open_, pending = asyncio.run(wait_settled(url, args.drain))
            checks = asyncio.run(reconcile(url, traffic.ledger, world, sandbox=summary(cluster)))
        took = figures.get("takeover")
        log(f"  figures: lease holder pid {figures.get('victim')} killed at t={figures.get('at', 0):.1f}s; worker pid "
            f"{figures.get('successor')} took over after {took if took is None else f'{took:.1f}'} s (limit 60 s); "
            f"{len(figures['scheduled'])} broadcasts scheduled every 5 s across the crash")
        log(f"  survey due 5 s after the kill: opened {opened} time(s), invitation broadcasts {invites}")
        ok = print_checks(checks) and took is not None and took < 60 and opened == 1 and invites == 1
        return ok
    finally:
        drop_database(name, admin)


# ---- PostgreSQL restart ----
class PrivatePostgres:
    """A throw-away PostgreSQL cluster in `folder` on its own port, run as the `postgres` user when we are root."""

    def __init__(self, folder: Path):
        self.folder = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.port = _free_port()
        self.bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
                           or "/usr/lib/postgresql/15/bin")
        self.as_postgres = os.geteuid() == 0

    @property
    def admin(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check)

    def create(self) -> None:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.folder.parent, "postgres")
        self._run("initdb", "-D", str(self.folder), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder), "-l", str(self.log), "-w", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
                  "-c max_connections=200", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder), "-m", "fast", "-w", "stop", check=False)


def _free_port() -> int:
    from bench.common import free_port

    return free_port()


async def _terminate(url: str, name: str, admin: str, seconds: float) -> int:
    """Kill every connection to database `name` again and again for `seconds` (a simulated outage)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    killed = 0
    try:
        async with engine.connect() as conn:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                killed += len((await conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d "
                    "AND pid <> pg_backend_pid()"), {"d": name})).all())
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    return killed


def pg_restart(args) -> bool:
    seconds = args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="linli-drill-pg-"))
    private = None
    mode = args.mode
    admin = PG_ADMIN
    if mode == "private":
        try:
            private = PrivatePostgres(folder)
            private.create()
            admin = private.admin
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            log(f"pg-restart: no private PostgreSQL cluster ({str(detail).strip()[:200]}); simulating the restart "
                "with pg_terminate_backend on the shared server instead")
            private, mode, admin = None, "terminate", PG_ADMIN
    url, name = new_database("linli_drill_pg", admin)
    try:
        world = prepare(url, args.residents, args.active)
        rate = max(20.0, round(args.residents / (0.8 * seconds), 1))
        with Cluster(url, folder, users=args.residents, active=args.active, delivery_rate=rate).start() as cluster:
            how = (f"private cluster on port {private.port}: pg_ctl stop -m fast, down {args.down:g} s, start"
                   if private else f"SIMULATED: pg_terminate_backend of every connection to {name} for {args.down:g} s")
            log(f"pg-restart: {args.rate:g} msg/s for {seconds:.0f} s, a broadcast to {args.residents} at {rate:g}/s; "
                f"{how}; processes: {cluster.pids()}; logs in {folder}")
            asyncio.run(create_broadcast(url, "数据库重启演练公示"))
            traffic = Traffic(f"{cluster.base}/wechat", world, rate=args.rate, lanes=args.lanes,
                              window_seconds=WINDOW)
            figures: dict = {"ready": []}

            async def probe_ready(tr: Traffic, until: float) -> None:
                async with aiohttp.ClientSession() as http:
                    while time.monotonic() < until and not tr.stop_event.is_set():
                        try:
                            async with http.get(f"{cluster.base}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as r:
                                figures["ready"].append((time.monotonic() - tr.t0, r.status))
                        except (aiohttp.ClientError, asyncio.TimeoutError):
                            figures["ready"].append((time.monotonic() - tr.t0, 0))
                        await asyncio.sleep(0.5)

            async def inject(tr: Traffic) -> None:
                await asyncio.sleep(seconds / 3)
                before = await delivery_counts(url)
                figures["final_before"] = before["sent"] + before["skipped"] + before["failed"]
                mark = tr.total.ok
                probe = asyncio.create_task(probe_ready(tr, time.monotonic() + args.down + 60))
                down_at = time.monotonic()
                figures["down_at"] = down_at - tr.t0
                figures["window_before"] = len(tr.windows)
                if private:
                    await asyncio.to_thread(private.stop)
                    figures["stopped_in"] = time.monotonic() - down_at
                    await asyncio.sleep(args.down)
                    await asyncio.to_thread(private.start)
                else:
                    figures["terminated"] = await _terminate(url, name, admin, args.down)
                up_at = time.monotonic()
                figures["up_at"] = up_at - tr.t0
                figures["outage"] = up_at - down_at
                ok_before = tr.total.ok
                while not tr.stop_event.is_set() and tr.total.ok == ok_before:
                    await asyncio.sleep(0.05)
                figures["recovered"] = time.monotonic() - up_at
                figures["ok_during"] = ok_before - mark
                await probe

            asyncio.run(traffic.run(seconds, on_window=windows_printer(cluster, url), on_start=inject))
            open_, pending = asyncio.run(wait_settled(url, args.drain))
            after = asyncio.run(delivery_counts(url))
            checks = asyncio.run(reconcile(url, traffic.ledger, world, sandbox=summary(cluster)))
            total = traffic.total
            restarts = (folder / "web.log").read_text(errors="replace").count("被信号")
        ready = figures["ready"]
        not_ready = [t for t, status in ready if status != 200]
        log(f"  figures: outage {figures.get('outage', 0):.1f} s from t={figures.get('down_at', 0):.1f}s "
            f"({'real restart' if private else 'simulated'}"
            f"{', connections killed ' + str(figures.get('terminated')) if not private else ''}); first normal reply "
            f"{figures.get('recovered', float('nan')):.2f} s after the database was back")
        log(f"  answers over the whole drill: ok {total.ok}, busy (told honestly, not processed) {total.busy}, late "
            f"{total.late}, no answer after retries {total.failed}, attempts failed {total.attempts_failed}, "
            f"5xx {total.http5xx}; web workers restarted {restarts}")
        log(f"  /readyz not ready {len(not_ready)} of {len(ready)} probes"
            + (f" (t={min(not_ready):.1f}s … {max(not_ready):.1f}s)" if not_ready else ""))
        log(f"  deliveries final before the outage {figures.get('final_before')}, at the end "
            f"{after['sent'] + after['skipped'] + after['failed']} (failed {after['failed']}); broadcasts still open "
            f"{open_}")
        return print_checks(checks) and total.http5xx == 0 and "recovered" in figures
    finally:
        drop_database(name, admin)
        if private:
            private.stop()
            shutil.rmtree(private.folder, ignore_errors=True)


# ---- WeChat -1 for 10% of calls ----
async def _attempt_figures(url: str) -> dict:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            row = (await session.execute(text(
                "SELECT SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), MAX(attempts), "
                "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), COUNT(*) FROM deliveries"))).one()
            return {"retried": row[0] or 0, "max_attempts": row[1] or 0, "failed": row[2] or 0, "rows": row[3]}
    finally:
        await db.dispose()


def sandbox_faults(args, admin: str = PG_ADMIN) -> bool:
    fault_seconds = (args.fault_minutes if args.fault_minutes is not None else 5) * 60
    lead = 60.0 if args.fault_minutes is None else min(60.0, fault_seconds / 2)
    seconds = lead + fault_seconds + lead
    url, name = new_database("linli_drill_faults", admin)
    folder = Path(tempfile.mkdtemp(prefix="linli-drill-faults-"))
    try:
        world = prepare(url, args.residents, args.active)
        rate = max(10.0, round(args.residents / (0.9 * seconds), 1))
        with Cluster(url, folder, users=args.residents, active=args.active, delivery_rate=rate).start() as cluster:
            log(f"sandbox-faults: {args.rate:g} msg/s for {seconds:.0f} s; -1 on 10% of calls from t={lead:.0f}s for "
                f"{fault_seconds:.0f} s; a broadcast to {args.residents} at {rate:g}/s; processes: {cluster.pids()}; logs in {folder}")
            asyncio.run(create_broadcast(url, "微信接口故障演练公示"))
            traffic = Traffic(f"{cluster.base}/wechat", world, rate=args.rate, lanes=args.lanes,
                              window_seconds=WINDOW)
            figures: dict = {}

            async def inject(tr: Traffic) -> None:
                await asyncio.sleep(lead)
                figures["windows_before"] = len(tr.windows)
                fault = await asyncio.to_thread(cluster.sandbox_call, "POST", "/sandbox/faults",
                                                {"endpoint": "*", "errcode": -1, "errmsg": "system error",
                                                 "probability": 0.1})
                await asyncio.sleep(fault_seconds)
                await asyncio.to_thread(cluster.sandbox_call, "DELETE", f"/sandbox/faults?id={fault['id']}")
                figures["windows_during"] = (figures["windows_before"], len(tr.windows))

            asyncio.run(traffic.run(seconds, on_window=windows_printer(cluster, url), on_start=inject))
            open_, pending = asyncio.run(wait_settled(url, args.drain))
            box = summary(cluster)
            attempts = asyncio.run(_attempt_figures(url))
            checks = asyncio.run(reconcile(url, traffic.ledger, world, sandbox=box))
        start, end = figures.get("windows_during", (0, 0))
        during = [lat for w in traffic.windows[start:end] for lat in w.latencies]
        outside = [lat for w in traffic.windows[:start] + traffic.windows[end:] for lat in w.latencies]
        log(f"  figures: -1 answered {box['faults_fired']} times; deliveries {attempts['rows']}: retried "
            f"{attempts['retried']} (max attempts {attempts['max_attempts']}), failed {attempts['failed']}; "
            f"broadcasts still open {open_}")
        log(f"  webhook p50/p99 during the faults {percentile(during, 50) * 1000:.1f}/{percentile(during, 99) * 1000:.1f}"
            f" ms, outside {percentile(outside, 50) * 1000:.1f}/{percentile(outside, 99) * 1000:.1f} ms; "
            f"5xx {traffic.total.http5xx}, no answer {traffic.total.failed}")
        return print_checks(checks) and attempts["failed"] == 0 and box["faults_fired"] > 0
    finally:
        drop_database(name, admin)


DRILLS = {"kill-web": kill_web, "kill-scheduler": kill_scheduler, "pg-restart": pg_restart,
          "sandbox-faults": sandbox_faults}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drill", choices=[*DRILLS, "all"])
    parser.add_argument("--minutes", type=float, default=3, help="length of each drill")
    parser.add_argument("--rate", type=float, default=30, help="resident messages per second")
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--active", type=int, default=2000)
    parser.add_argument("--lanes", type=int, default=48)
    parser.add_argument("--drain", type=float, default=300, help="seconds to wait for broadcasts to finish")
    parser.add_argument("--down", type=float, default=5, help="pg-restart: seconds the database stays down")
    parser.add_argument("--mode", choices=["private", "terminate"], default="private",
                        help="pg-restart: restart a private cluster, or kill connections on the shared server")
    parser.add_argument("--fault-minutes", type=float, help="sandbox-faults: minutes of faults (default 5)")
    args = parser.parse_args()
    names = list(DRILLS) if args.drill == "all" else [args.drill]
    if args.drill == "all" and args.fault_minutes is None:
        args.fault_minutes = min(5.0, args.minutes / 2)
    results = {}
    for name in names:
        log(f"== drill {name} ==")
        began = time.monotonic()
        results[name] = DRILLS[name](args)
        log(f"== drill {name}: {'PASS' if results[name] else 'FAIL'} ({time.monotonic() - began:.0f} s) ==")
    if len(results) > 1:
        log("summary: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
