"""City-scale plumbing shared by `bench/soak.py` and `bench/drills.py`: a fresh PostgreSQL database seeded with
bound residents and an open survey, a cluster of real processes (the sandbox, `linli serve --workers N`, `linli
worker` ×K), WeChat-like resident traffic (open loop at a fixed rate, retries like WeChat's, a ledger of what each
resident was told), per-window figures, process RSS, and the end-of-run reconciliation against the database.

The sandbox runs in its own process: `python -m bench.cityscale sandbox --port P --users N --active M` (users are
followers `o_city_0000000`…; the first M have an open customer-service window) with `/bench/summary` counting the
messages it received and the ones received twice.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PG_ADMIN, PYTHON, ROOT, drop_database, free_port, new_database, percentile, pg_admin, wait_http  # noqa: E402,F401
from bot.settings import Settings  # noqa: E402
from bot.simulator import WeChatSimulator, text_xml  # noqa: E402

BASE = Settings()
SURVEY_COMMUNITY = "HX-YYL-YJ"
OPENID = "o_city_{:07d}"
QUESTIONS = ["物业费收支要公示吗", "维修基金怎么用", "业委会怎么成立", "联席会议多久开一次", "物业不作为找谁",
             "停车费归谁", "小区公共收益怎么公开", "老旧小区改造补贴怎么申请", "物业合同到期了怎么办", "你好"]
PLACES = ["1号楼", "2号楼", "3号楼", "5号楼", "8号楼", "地下车库", "东门", "北区"]
PROBLEMS = ["楼道灯坏了好几天", "电梯经常故障停运", "水管漏水渗到楼下", "垃圾清运不及时有异味", "车位被长期占用",
            "物业费收费标准没有公示", "晚上广场舞噪音太大", "单元门门禁坏了"]
CATEGORIES = ["公示", "会议", "调查"]
MARKER = re.compile(r"〔S(\d+)〕")
TICKET_NUMBER = re.compile(r"编号\s*(JF\d{8}-\d{4,6})")
BUSY = "系统繁忙"
DEFAULT_MIX = {"question": 35, "complaint": 15, "vote": 4, "status": 20, "subscription": 15}
FINAL = ("sent", "skipped", "failed")


def log(line: str) -> None:
    print(line, flush=True)


# ---- seeding ----
@dataclass
class World:
    url: str
    residents: int
    active: list[str]  # residents who chat
    voters: list[str]  # active residents in the survey's community (each votes at most once)
    survey_id: int


async def seed(url: str, residents: int, active: int, *, survey: bool = True) -> World:
    """`residents` bound owners over the demo estates (openids OPENID), the first `active` of them chat; half of
    the active ones live in the survey's community. With `survey`, one open 5-question campaign there."""
    from sqlalchemy import insert, select

    from bench.survey import QUESTIONS as SURVEY_QUESTIONS
    from handlers.surveys import service
    from storage.db import Database
    from storage.models import Community, Estate, Resident, new_ref

    db = Database(url)
    now = datetime.now(timezone.utc)
    try:
        async with db.transaction() as session:
            estates = (await session.execute(select(Estate.id, Estate.community_id).order_by(Estate.id))).all()
            community = await session.scalar(select(Community.id).where(Community.code == SURVEY_COMMUNITY))
        inside = [e for e in estates if e[1] == community]
        voters = []
        rows = []
        for i in range(residents):
            if i < active and i % 2 == 0:
                estate = inside[(i // 2) % len(inside)]
            else:
                estate = estates[i % len(estates)]
            openid = OPENID.format(i)
            if i < active and estate[1] == community:
                voters.append(openid)
            rows.append({"openid": openid, "ref": new_ref(), "community_id": estate[1], "estate_id": estate[0],
                         "building": str(1 + i // 1000), "room": str(i), "role": "owner", "subscribed": True,
                         "bound_at": now, "created_at": now})
        for start in range(0, len(rows), 5000):
            async with db.transaction() as session:
                await session.execute(insert(Resident), rows[start:start + 5000])
        survey_id = 0
        if survey:
            async with db.transaction() as session:
                campaign = await service.create(
                    session, template="custom", subject_type="free", subject="城市级压测", title="城市级压测满意度调查",
                    scope_level="community", scope_ids=[community], opens_at=now - timedelta(minutes=1),
                    closes_at=now + timedelta(days=2), created_by="bench", now=now, questions=SURVEY_QUESTIONS)
                await service.schedule(session, campaign, now)
                await service.open_due(session, now)  # opens it and queues the invitation broadcast
                survey_id = campaign.id
        return World(url, residents, [OPENID.format(i) for i in range(active)], voters, survey_id)
    finally:
        await db.dispose()


async def create_broadcast(url: str, text: str, *, send_at: datetime | None = None, residents: list[int] | None = None,
                           title: str = "压测公示") -> int:
    from bot.delivery import Content, Scope
    from bot.delivery import create_broadcast as create
    from storage.db import Database

    db = Database(url)
    try:
        async with db.transaction() as session:
            scope = Scope.of_residents(residents) if residents is not None else Scope()
            b = await create(session, category="notice", scope=scope, created_by="bench", send_at=send_at,
                             content=Content(text, title=title, summary=title))
            return b.id
    finally:
        await db.dispose()


def prepare(url: str, residents: int, active: int, *, survey: bool = True) -> World:
    """Migrate, load the demo organisation, seed."""
    from storage.migrate import upgrade

    upgrade(url)
    # demo data loads only where WeChat's API is a sandbox on this machine (bot/production.py); the run's own
    # sandbox starts later, any loopback address says so
    env = {**clean_env(), "LINLI_DATABASE_URL": url, "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
    subprocess.run([PYTHON, "-m", "bot.cli", "org", "demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return asyncio.run(seed(url, residents, active, survey=survey))


# ---- processes ----
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}


def rss_now(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    try:
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return []


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 40) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


class Cluster:
    """The sandbox, `linli serve --workers W` and `linli worker` processes on one database; logs in `folder`."""

    def __init__(self, url: str, folder: Path, *, users: int, active: int, web_workers: int = 2,
                 delivery_rate: float = 0.0, extra: dict[str, str] | None = None):
        self.url, self.folder = url, folder
        self.users, self.active, self.web_workers = users, active, web_workers
        self.port, self.sandbox_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.web: Proc | None = None
        self.sandbox: Proc | None = None
        self.workers: list[Proc] = []
        self.env = {**clean_env(), "LINLI_DATABASE_URL": url, "LINLI_PORT": str(self.port),
                    "LINLI_WECHAT_API_BASE": self.sandbox_url, "LINLI_LOG_LEVEL": "WARNING",
                    "LINLI_DELIVERY_RATE": str(delivery_rate), "LINLI_DELIVERY_TEMPLATE_NOTICE": "TPL_NOTICE",
                    "LINLI_DELIVERY_TEMPLATE_SURVEY": "TPL_SURVEY", "LINLI_DELIVERY_TEMPLATE_TICKET": "TPL_TICKET",
                    # a batch is recorded when it is all sent: with a rate limit, keep it to ~2 s of sending
                    "LINLI_DELIVERY_BATCH": str(int(min(500, max(20, delivery_rate * 2))) if delivery_rate else 500),
                    "LINLI_DELIVERY_LANES": "3", "LINLI_DELIVERY_CONCURRENCY": "64",
                    "LINLI_DELIVERY_EXPAND_BATCH": "20000", **(extra or {})}

    def _start(self, name: str, args: list[str]) -> Proc:
        path = self.folder / f"{name}.log"
        with open(path, "ab") as out:
            popen = subprocess.Popen([PYTHON, *args], env=self.env, cwd=ROOT, stdout=out, stderr=out)
        return Proc(name, popen, path)

    def start(self, delivery_workers: int = 1) -> "Cluster":
        self.sandbox = self._start("sandbox", ["-m", "bench.cityscale", "sandbox", "--port", str(self.sandbox_port),
                                               "--users", str(self.users), "--active", str(self.active)])
        wait_http(f"{self.sandbox_url}/sandbox/stats", timeout=120)
        self.web = self._start("web", ["-m", "bot.cli", "serve", "--workers", str(self.web_workers)])
        for _ in range(delivery_workers):
            self.start_worker()
        wait_http(f"{self.base}/healthz", timeout=120)
        deadline = time.time() + 120
        while len(self.web_pids()) < self.web_workers and time.time() < deadline:
            time.sleep(0.2)
        return self

    def start_worker(self) -> Proc:
        proc = self._start(f"worker{len(self.workers)}", ["-m", "bot.cli", "worker"])
        self.workers.append(proc)
        return proc

    def pids(self) -> str:
        names = [f"supervisor {self.web.pid}" if self.web else "",
                 *(f"web{i} {pid}" for i, pid in enumerate(self.web_pids())),
                 *(f"{w.name} {w.pid}" for w in self.workers), f"sandbox {self.sandbox.pid}" if self.sandbox else ""]
        return ", ".join(n for n in names if n)

    def web_pids(self) -> list[int]:
        return children(self.web.pid) if self.web else []

    def rss(self) -> dict[str, float]:
        out = {}
        if self.web:
            out["supervisor"] = rss_now(self.web.pid)
            for i, pid in enumerate(self.web_pids()):
                out[f"web{i}"] = rss_now(pid)
        for w in self.workers:
            if w.alive():
                out[w.name] = rss_now(w.pid)
        if self.sandbox:
            out["sandbox"] = rss_now(self.sandbox.pid)
        return out

    def stop(self) -> None:
        for proc in [*self.workers, self.web, self.sandbox]:
            if proc is not None:
                proc.stop()

    def sandbox_call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.sandbox_url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=30).read())

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def format_rss(rss: dict[str, float]) -> str:
    return " ".join(f"{name} {mb:.0f}" for name, mb in rss.items())


# ---- traffic ----
@dataclass
class Window:
    """Figures of one reporting window."""

    messages: int = 0  # distinct messages sent (a retry is not a new message)
    ok: int = 0
    late: int = 0  # passive answer `success`: the reply is pushed later
    busy: int = 0  # answered honestly that the message was not processed
    failed: int = 0  # no answer after every retry
    attempts_failed: int = 0  # connection errors / timeouts / 5xx of single attempts
    retries: int = 0
    http5xx: int = 0
    latencies: list[float] = field(default_factory=list)

    def line(self, seconds: float) -> str:
        lat = self.latencies
        return (f"{self.messages / seconds:6.1f} msg/s  ok {self.ok:6d}  late {self.late:4d}  busy {self.busy:4d}  "
                f"failed {self.failed:3d}  retried {self.retries:4d}  5xx {self.http5xx:3d}  "
                f"p50 {percentile(lat, 50) * 1000:7.1f} ms  p99 {percentile(lat, 99) * 1000:7.1f} ms")


@dataclass
class Answer:
    kind: str  # ok / late / busy / failed / other / stopped
    text: str = ""


@dataclass
class Ledger:
    """What residents were told: the basis of the reconciliation."""

    complaints: dict[str, str] = field(default_factory=dict)  # marker → confirmed / uncertain / not_filed
    votes: dict[str, str] = field(default_factory=dict)  # openid → confirmed / uncertain / abandoned
    numbers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    muted: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    scripts: Counter = field(default_factory=Counter)
    not_filed: Counter = field(default_factory=Counter)  # why a complaint did not reach its confirmation


class Traffic:
    """Resident scripts in `lanes` concurrent loops; every message waits for a slot of an open-loop pacer at
    `rate` messages/s (a pacer more than a second behind skips the missed slots instead of bursting)."""

    def __init__(self, url: str, world: World, *, rate: float, lanes: int = 64, timeout: float = 5.0,
                 retries: int = 3, retry_gap: float = 1.0, mix: dict[str, int] | None = None, seed: int = 7,
                 window_seconds: float = 60.0):
        self.url, self.world, self.rate, self.lanes = url, world, rate, lanes
        self.timeout, self.retries, self.retry_gap = timeout, retries, retry_gap
        self.mix = mix or DEFAULT_MIX
        self.rng = random.Random(seed)
        self.window_seconds = window_seconds
        self.windows: list[Window] = []
        self.total = Window()
        self.ledger = Ledger()
        self.busy_residents: set[str] = set()
        self.voters = list(world.voters)
        self.rng.shuffle(self.voters)
        self._msg_ids = iter(range(int(time.time() * 1000) % 10**9 * 1000, 10**15))
        self._complaints = iter(range(1, 10**9))
        self.stop_event = asyncio.Event()
        self.t0 = 0.0
        self.k = 0

    # pacing and windows
    def window(self) -> Window:
        index = int((time.monotonic() - self.t0) // self.window_seconds)
        while len(self.windows) <= index:
            self.windows.append(Window())
        return self.windows[index]

    async def slot(self) -> None:
        self.k += 1
        now = time.monotonic()
        due = self.t0 + self.k / self.rate
        if due < now - 1.0:
            self.k = int((now - self.t0) * self.rate)
            due = now
        if due > now:
            await asyncio.sleep(due - now)

    # one message, with WeChat's retries
    async def send(self, openid: str, content: str) -> Answer:
        """One message (retried like WeChat on errors and timeouts); after the end of the run scripts stop at
        their next message (answer `stopped`, nothing sent), so the last window is not inflated."""
        if self.stop_event.is_set():
            return Answer("stopped")
        await self.slot()
        if self.stop_event.is_set():
            return Answer("stopped")
        query, body = self.sim.sign(text_xml(openid, content, msg_id=next(self._msg_ids)))
        data = body.encode()
        windows = [self.window(), self.total]
        for w in windows:
            w.messages += 1
        for attempt in range(1 + self.retries):
            started = time.perf_counter()
            status, raw = 0, ""
            try:
                async with self.http.post(self.url, params=query, data=data,
                                          timeout=aiohttp.ClientTimeout(total=self.timeout)) as resp:
                    status, raw = resp.status, await resp.text()
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                status = 0
            elapsed = time.perf_counter() - started
            if status == 200:
                for w in windows:
                    w.latencies.append(elapsed)
                if raw in ("success", ""):
                    for w in windows:
                        w.late += 1
                    return Answer("late")
                reply = self.sim.read_reply(200, raw, query).text or ""
                kind = "busy" if BUSY in reply else "ok"
                for w in windows:
                    setattr(w, kind, getattr(w, kind) + 1)
                return Answer(kind, reply)
            for w in windows:
                w.attempts_failed += 1
                w.http5xx += status >= 500
            if 0 < status < 500:
                return Answer("other", raw[:200])
            if attempt < self.retries and not self.stop_event.is_set():
                for w in windows:
                    w.retries += 1
                await asyncio.sleep(self.retry_gap)
            else:
                break
        for w in windows:
            w.failed += 1
        return Answer("failed")

    # scripts
    async def question(self, openid: str) -> None:
        await self.send(openid, self.rng.choice(QUESTIONS))

    async def complaint(self, openid: str) -> None:
        n = next(self._complaints)
        marker = f"〔S{n}〕"
        self.ledger.complaints[marker] = "not_filed"
        first = await self.send(openid, f"投诉 {self.rng.choice(PLACES)}{self.rng.choice(PROBLEMS)}{marker}")
        if first.kind == "late":
            await asyncio.sleep(self.timeout)  # the server is still working on it; WeChat's resident waits too
        elif not (first.kind == "ok" and "请核对" in first.text):
            self.ledger.not_filed[f"{first.kind}: {first.text[:30]}"] += 1
            if first.kind == "failed":
                await self.send(openid, "取消")
            return
        confirm = await self.send(openid, "确认")
        if confirm.kind == "ok" and "已反映过相同的问题" in confirm.text:  # the duplicate check: not another ticket
            self.ledger.not_filed["duplicate of an earlier complaint"] += 1
            await self.send(openid, "取消")
        elif confirm.kind == "ok" and "已受理您的投诉" in confirm.text:
            self.ledger.complaints[marker] = "confirmed"
            found = TICKET_NUMBER.search(confirm.text)
            if found:
                self.ledger.numbers[openid].append(found.group(1))
        elif confirm.kind in ("late", "failed"):
            self.ledger.complaints[marker] = "uncertain"

    async def vote(self, openid: str) -> None:
        script = ["调查", str(self.rng.randint(1, 5)), str(self.rng.randint(1, 5)), str(self.rng.randint(1, 5)),
                  str(self.rng.randint(1, 3)), self.rng.choice(["1 3", "2", "跳过", "4,5"])]
        self.ledger.votes[openid] = "abandoned"
        for text in script:
            answer = await self.send(openid, text)
            if answer.kind == "late":
                await asyncio.sleep(self.timeout)
            elif answer.kind != "ok":
                await self.send(openid, "取消")
                return
        final = await self.send(openid, "确认")
        if final.kind == "ok" and "提交成功" in final.text:
            self.ledger.votes[openid] = "confirmed"
        elif final.kind in ("late", "failed"):
            self.ledger.votes[openid] = "uncertain"

    async def status(self, openid: str) -> None:
        numbers = self.ledger.numbers.get(openid)
        await self.send(openid, f"查询 {self.rng.choice(numbers)}" if numbers else "我的投诉")

    async def subscription(self, openid: str) -> None:
        category = self.rng.choice(CATEGORIES)
        muted = self.ledger.muted[openid]
        verb = "订阅" if category in muted else "退订"
        answer = await self.send(openid, f"{verb} {category}")
        if answer.kind == "ok":
            (muted.discard if verb == "订阅" else muted.add)(category)

    async def lane(self) -> None:
        names, weights = list(self.mix), list(self.mix.values())
        while not self.stop_event.is_set():
            kind = self.rng.choices(names, weights)[0]
            if kind == "vote":
                if not self.voters:
                    kind = "question"
                else:
                    openid = self.voters.pop()
                    if openid in self.busy_residents:
                        self.voters.insert(0, openid)
                        kind = "question"
            if kind != "vote":
                openid = self.rng.choice(self.world.active)
                if openid in self.busy_residents:
                    await asyncio.sleep(0)
                    continue
            self.busy_residents.add(openid)
            self.ledger.scripts[kind] += 1
            try:
                await getattr(self, kind)(openid)
            finally:
                self.busy_residents.discard(openid)

    async def run(self, seconds: float, on_window=None, on_start=None) -> None:
        """Send for `seconds`; `on_window(index, window)` after each reporting window; `on_start(traffic)` is
        awaited as a task alongside (drills inject their failure there)."""
        connector = aiohttp.TCPConnector(limit=max(256, self.lanes * 2))
        async with aiohttp.ClientSession(connector=connector) as http:
            self.http = http
            self.sim = WeChatSimulator(self.url, BASE.wechat_token, BASE.wechat_appid, session=http)
            self.t0 = time.monotonic()
            self.k = 0
            lanes = [asyncio.create_task(self.lane()) for _ in range(self.lanes)]
            side = asyncio.create_task(on_start(self)) if on_start else None
            reported = 0
            while time.monotonic() - self.t0 < seconds:
                await asyncio.sleep(0.5)
                current = int((time.monotonic() - self.t0) // self.window_seconds)
                while reported < current:
                    if on_window:
                        await on_window(reported, self.windows[reported] if reported < len(self.windows) else Window())
                    reported += 1
            self.stop_event.set()
            await asyncio.gather(*lanes, return_exceptions=True)
            if side:
                await side
            while reported < len(self.windows) and reported * self.window_seconds < seconds:  # the last, partial one
                if on_window:
                    await on_window(reported, self.windows[reported])
                reported += 1


# ---- reconciliation ----
@dataclass
class Check:
    label: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"  [{'OK' if self.ok else 'MISMATCH'}] {self.label}: {self.detail}"


async def broadcasts_settled(url: str) -> tuple[int, int]:
    """(broadcasts not yet done, deliveries not yet final)."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            open_ = await session.scalar(text(
                "SELECT COUNT(*) FROM broadcasts WHERE status NOT IN ('done', 'cancelled')"
                " AND (send_at IS NULL OR send_at <= now())"))  # the demo schedules one for days ahead
            pending = await session.scalar(text("SELECT COUNT(*) FROM deliveries WHERE status NOT IN "
                                                "('sent', 'skipped', 'failed')"))
            return open_, pending
    finally:
        await db.dispose()


async def wait_settled(url: str, timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while True:
        open_, pending = await broadcasts_settled(url)
        if (not open_ and not pending) or time.monotonic() > deadline:
            return open_, pending
        await asyncio.sleep(5)


async def delivery_counts(url: str) -> Counter:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            return Counter(dict((await session.execute(text(
                "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))).all()))
    finally:
        await db.dispose()


async def reconcile(url: str, ledger: Ledger, world: World, *, big_broadcast: int | None = None,
                    sandbox: dict | None = None) -> list[Check]:
    from sqlalchemy import text

    from storage.db import Database

    checks: list[Check] = []
    db = Database(url)
    try:
        async with db.reading() as session:
            found = Counter()
            for (description,) in (await session.execute(text("SELECT description FROM tickets"))).all():
                for marker in MARKER.findall(description or ""):
                    found[f"〔S{marker}〕"] += 1
            states = Counter(ledger.complaints.values())
            confirmed = {m for m, s in ledger.complaints.items() if s == "confirmed"}
            uncertain = {m for m, s in ledger.complaints.items() if s == "uncertain"}
            missing = confirmed - set(found)
            doubled = {m for m, n in found.items() if n > 1}
            unexpected = set(found) - confirmed - uncertain
            checks.append(Check(
                "every complaint confirmed to a resident is exactly one ticket",
                not missing and not doubled and not unexpected,
                f"confirmed {len(confirmed)}, tickets with a marker {sum(found.values())}, missing {len(missing)}, "
                f"doubled {len(doubled)}, tickets never confirmed {len(unexpected)}; in doubt (late/no answer) "
                f"{len(uncertain)} of which filed {len(uncertain & set(found))}; not filed "
                f"{states['not_filed']} ({', '.join(f'{k} ×{v}' for k, v in ledger.not_filed.most_common(3))})"))

            if world.survey_id:
                rows = (await session.execute(text(
                    "SELECT r.openid, COUNT(*) FROM survey_responses s JOIN residents r ON r.id = s.resident_id "
                    "WHERE s.survey_id = :s GROUP BY r.openid"), {"s": world.survey_id})).all()
                counted = dict(rows)
                total = await session.scalar(text("SELECT COUNT(*) FROM survey_responses WHERE survey_id = :s"),
                                             {"s": world.survey_id})
                distinct = await session.scalar(text(
                    "SELECT COUNT(DISTINCT voter_key) FROM survey_responses WHERE survey_id = :s"), {"s": world.survey_id})
                v_confirmed = {o for o, s in ledger.votes.items() if s == "confirmed"}
                v_uncertain = {o for o, s in ledger.votes.items() if s == "uncertain"}
                v_missing = v_confirmed - set(counted)
                v_double = {o for o, n in counted.items() if n > 1}
                v_unexpected = set(counted) - v_confirmed - v_uncertain
                checks.append(Check(
                    "every confirmed vote is counted once",
                    not v_missing and not v_double and not v_unexpected and total == distinct,
                    f"confirmed {len(v_confirmed)}, stored {total} ({distinct} distinct voices), missing "
                    f"{len(v_missing)}, twice {len(v_double)}, never confirmed {len(v_unexpected)}; in doubt "
                    f"{len(v_uncertain)} of which stored {len(v_uncertain & set(counted))}"))

            per = (await session.execute(text(
                "SELECT b.id, b.status, COUNT(d.id), COUNT(DISTINCT d.resident_id), "
                "SUM(CASE WHEN d.id IS NULL OR d.status IN ('sent', 'skipped', 'failed') THEN 0 ELSE 1 END), "  # no rows: nothing to finish
                "SUM(CASE WHEN d.resident_id IS NULL THEN 1 ELSE 0 END), "
                "COALESCE(b.send_at > now(), false) "  # scheduled for later (the demo has one days ahead)
                "FROM broadcasts b LEFT JOIN deliveries d ON d.broadcast_id = b.id "
                "GROUP BY b.id, b.status, b.send_at"))).all()
            twice = await session.scalar(text(
                "SELECT COUNT(*) FROM (SELECT broadcast_id, resident_id FROM deliveries WHERE resident_id IS NOT NULL "
                "GROUP BY broadcast_id, resident_id HAVING COUNT(*) > 1) x"))
            statuses = Counter(dict((await session.execute(text(
                "SELECT status, COUNT(*) FROM deliveries GROUP BY status"))).all()))
            resent = await session.scalar(text("SELECT COUNT(*) FROM deliveries WHERE resent"))
            not_final = sum(row[4] or 0 for row in per)
            stuck = (await session.execute(text(
                "SELECT d.broadcast_id, d.status, d.channel, d.attempts, d.reason FROM deliveries d "
                "WHERE d.status NOT IN ('sent', 'skipped', 'failed') ORDER BY d.id LIMIT 5"))).all()
            unfinished = [row[0] for row in per if row[1] not in ("done", "cancelled") and not row[6]]
            rows_total = sum(row[2] for row in per)
            detail = (f"{len(per)} broadcasts, {rows_total} deliveries ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
                      f"recipient rows twice {twice}, not final {not_final}, broadcasts unfinished {len(unfinished)}, "
                      f"resent after a crash {resent}")
            if stuck:
                detail += "; not final (first 5: broadcast, status, channel, attempts, reason): " + "; ".join(
                    ", ".join(str(v) for v in row) for row in stuck)
            ok = twice == 0 and not_final == 0 and not unfinished
            if big_broadcast is not None:
                big = next((row for row in per if row[0] == big_broadcast), None)
                # the whole city when it was expanded: the harness's residents and the demo organisation's own
                expected = await session.scalar(text(
                    "SELECT COUNT(*) FROM residents WHERE id <= (SELECT expand_upto FROM broadcasts WHERE id = :b)"),
                    {"b": big_broadcast})
                ok = ok and big is not None and big[2] == big[3] == expected
                detail += (f"; the big broadcast: {big[2] if big else 0} rows for {expected} residents "
                           f"({world.residents} seeded by the harness)")
            checks.append(Check("every broadcast recipient has exactly one final delivery status", ok, detail))
    finally:
        await db.dispose()
    if sandbox is not None:
        checks.append(Check("messages the sandbox received twice (only resends after a crash may)",
                            sandbox["duplicates"] <= (resent or 0),
                            f"{sandbox['messages']} messages ({', '.join(f'{k} {v}' for k, v in sandbox['by_kind'].items())}), "
                            f"received twice {sandbox['duplicates']}"
                            + "".join(f"\n      e.g. {' · '.join(map(str, example))}"
                                      for example in sandbox.get("duplicate_examples", []))))
    return checks


def summary(cluster: Cluster) -> dict:
    return json.loads(urllib.request.urlopen(f"{cluster.sandbox_url}/bench/summary", timeout=60).read())


# ---- the sandbox process ----
def serve_sandbox(port: int, users: int, active: int) -> None:
    from aiohttp import web

    from bot.sandbox.hub import SANDBOX
    from bot.sandbox.server import create_sandbox_app

    app = create_sandbox_app(BASE.wechat_appid, BASE.wechat_secret, template_quota=10**9)
    state = app[SANDBOX].state
    for i in range(users):
        state.ensure_user(OPENID.format(i))
    for i in range(active):
        state.interact(OPENID.format(i), "message")

    def key(d) -> tuple:
        payload = d.payload or {}
        ident = payload.get("client_msg_id") or json.dumps(payload.get("text") or payload.get("data") or payload,
                                                           sort_keys=True, ensure_ascii=False)
        return d.openid, d.kind, ident

    async def bench_summary(_request):
        deliveries = list(state.deliveries)
        counts = Counter(key(d) for d in deliveries)
        twice = [k for k, n in counts.items() if n > 1]
        return web.json_response({"messages": len(deliveries), "by_kind": dict(Counter(d.kind for d in deliveries)),
                                  "duplicates": sum(n - 1 for n in counts.values() if n > 1),
                                  "duplicate_examples": [[openid, kind, ident[:60]] for openid, kind, ident in twice[:5]],
                                  "faults_fired": app[SANDBOX].faults.fired_total})

    app.router.add_get("/bench/summary", bench_summary)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description="bench/cityscale.py helpers")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sandbox")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--active", type=int, default=0)
    args = parser.parse_args()
    if args.command == "sandbox":
        serve_sandbox(args.port, args.users, args.active)


if __name__ == "__main__":
    main()
