"""Webhook benchmark: signed messages from many simulated residents against `linli serve` on loopback, beside the
protocol ceiling measured in the same invocation.

For each mode (plaintext, safe/AES) it runs the **echo** (aiohttp + wechatpy checking the signature, parsing and
echoing, no database: `bench/echo_app.py`) and **linli**, each in its own process, and prints their ratio. With
`--repeat N` the runs are interleaved (echo, linli, echo, linli …) and the medians reported. With `--pin` the
server runs on core 0 and this client on core 1. `--only bare` adds aiohttp answering `success`.

The message mix (`--mix`):
- `realistic` (default): policy questions drawn from 2,443 phrasings written by people who never saw the knowledge
  base (`bench/mix/`), out-of-scope chatter and emoji, 我的信息 / 帮助, residents in the middle of a 绑定 → 投诉
  dialog, and 2% WeChat retries (the same MsgId again, freshly signed); the answer cache cannot carry it.
- `ten`: the old mix, ten short questions (the answer cache serves most of them).

Each run: first contact (one message from every resident, creating them), then a closed loop (fixed concurrency,
as fast as possible) and an open loop (sends scheduled at `--rate`; latency counted from the scheduled time).

    .venv/bin/python bench/webhook.py [--mix realistic|ten] [--repeat 3] [--pin] [--seconds 10]
        [--concurrency 50] [--rate 500] [--residents 2000] [--workers N] [--postgresql] [--only MODE]
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PYTHON,
    cpu_seconds,
    drop_database,
    free_port,
    linli,
    new_database,
    percentile,
    process,
    rss_mb,
)
from bot.settings import Settings  # noqa: E402
from bot.simulator import WeChatSimulator, text_xml  # noqa: E402

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
MIX_DIR = Path(__file__).resolve().parent / "mix"
TEN = ["物业费收支要公示吗", "维修基金怎么用", "业委会怎么成立", "联席会议多久开一次", "你好", "帮助",
       "我的信息", "物业不作为找谁", "停车费归谁", "小区公共收益怎么公开"]
# shares of the realistic mix (the rest are policy questions)
CHATTER, MINE, DIALOG, RETRY = 0.12, 0.08, 0.20, 0.02
SCRIPT_BIND = ["绑定", "1", "1", "2", "1", "{room}", "确认"]
SCRIPT_COMPLAIN = ["投诉", "2", "{complaint}", "好了", "跳过", "确认"]

Message = tuple[str, str, int]  # openid, text, MsgId


@dataclass
class Result:
    sent: int
    ok: int
    failed: int
    seconds: float
    latencies: list[float]
    cpu: float = float("nan")  # the server's CPU seconds during the run

    @property
    def cpu_us(self) -> float:
        """The server's CPU time per answered message, in microseconds."""
        return self.cpu / self.ok * 1e6 if self.ok else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    def line(self, label: str) -> str:
        return (f"{label:<40} {self.rate:9.0f} req/s  p50 {percentile(self.latencies, 50) * 1000:7.1f} ms  "
                f"p99 {self.p99_ms:7.1f} ms  failures {self.failed}/{self.sent}"
                + ("" if math.isnan(self.cpu) else f"  server CPU {self.cpu_us:5.0f} µs/msg"))


# ---- the message mix ----------------------------------------------------------------------------------------

def _lines(name: str) -> list[str]:
    return [line for line in (MIX_DIR / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class MixSource:
    """Draws messages for the chosen mix; dialog residents walk their scripts in round robin, so two steps of one
    resident are always more than `spacing` messages apart (never in flight together)."""

    mix: str
    residents: int
    spacing: int
    rng: random.Random
    questions: list[str] = field(default_factory=list)
    chatter: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    _dialogs: list[list[str]] = field(default_factory=list)
    _dialog_ids: list[str] = field(default_factory=list)
    _turn: int = 0
    _next_dialog: int = 0

    def __post_init__(self) -> None:
        if self.mix == "realistic":
            self.questions, self.chatter = _lines("policy_questions.txt"), _lines("chatter.txt")
            self.complaints = _lines("complaints.txt")
            for _ in range(max(self.spacing + 1, 64)):
                self._start_dialog()

    def _start_dialog(self) -> None:
        n = self._next_dialog
        self._next_dialog += 1
        room = f"{1 + n % 12}-{1 + n % 3}-{1 + n % 6}0{1 + n % 4}"
        script = [s.format(room=room, complaint=self.rng.choice(self.complaints))
                  for s in SCRIPT_BIND + SCRIPT_COMPLAIN]
        self._dialogs.append(script)
        self._dialog_ids.append(f"o_dlg_{n:06d}")

    def _dialog_step(self) -> tuple[str, str]:
        slot = self._turn % len(self._dialogs)
        self._turn += 1
        openid, script = self._dialog_ids[slot], self._dialogs[slot]
        text = script.pop(0)
        if not script:  # this resident is done: a new one takes the slot
            self._start_dialog()
            self._dialogs[slot], self._dialog_ids[slot] = self._dialogs.pop(), self._dialog_ids.pop()
        return openid, text

    def next(self, msg_id: int) -> Message:
        rng = self.rng
        resident = f"o_bench_{rng.randrange(self.residents):06d}"
        if self.mix == "ten":
            message = (resident, rng.choice(TEN), msg_id)
        else:
            roll = rng.random()
            if roll < RETRY and len(self.sent) > self.spacing:
                return self.sent[rng.randrange(len(self.sent) - self.spacing)]  # WeChat retries: same MsgId
            roll -= RETRY
            if roll < DIALOG:
                openid, text = self._dialog_step()
                message = (openid, text, msg_id)
            elif roll < DIALOG + CHATTER:
                message = (resident, rng.choice(self.chatter), msg_id)
            elif roll < DIALOG + CHATTER + MINE:
                message = (resident, rng.choice(["我的信息", "帮助", "菜单", "我的投诉"]), msg_id)
            else:
                message = (resident, rng.choice(self.questions), msg_id)
        self.sent.append(message)
        return message


def signed(sim: WeChatSimulator, messages: list[Message]) -> list[tuple[dict, bytes]]:
    """Each message signed as WeChat signs it (a retry gets a fresh timestamp and nonce, as WeChat's do)."""
    out = []
    for openid, text, msg_id in messages:
        query, body = sim.sign(text_xml(openid, text, msg_id=msg_id))
        out.append((query, body.encode()))
    return out


# ---- load generators ----------------------------------------------------------------------------------------

async def _one(session, url, query, body, expect_xml: bool) -> bool:
    async with session.post(url, params=query, data=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
        text = await resp.read()
        return resp.status == 200 and (not expect_xml or text.startswith(b"<xml") or text == b"success")


async def closed_loop(url: str, work: list, concurrency: int, seconds: float, expect_xml: bool) -> Result:
    latencies: list[float] = []
    failed = 0
    index = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker():
            nonlocal index, failed
            while time.perf_counter() < stop and index < len(work):
                query, body = work[index]
                index += 1
                start = time.perf_counter()
                try:
                    good = await _one(session, url, query, body, expect_xml)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    good = False
                latencies.append(time.perf_counter() - start)
                failed += not good

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Result(len(latencies), len(latencies) - failed, failed, elapsed, latencies)


async def open_loop(url: str, work: list, rate: float, seconds: float, expect_xml: bool) -> Result:
    total = min(int(rate * seconds), len(work))
    latencies: list[float] = []
    failed = 0
    connector = aiohttp.TCPConnector(limit=1000)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()

        async def send(i: int):
            nonlocal failed
            scheduled = began + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            query, body = work[i]
            try:
                good = await _one(session, url, query, body, expect_xml)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                good = False
            latencies.append(time.perf_counter() - scheduled)
            failed += not good

        await asyncio.gather(*(send(i) for i in range(total)))
        elapsed = time.perf_counter() - began
    return Result(total, total - failed, failed, elapsed, latencies)


@dataclass
class Run:
    closed: Result
    opened: Result


async def measure(label: str, url: str, sim: WeChatSimulator, args, expect_xml: bool, pid: int, seed: int) -> Run:
    # First contact: one message from every simulated resident creates them (a resident's first message costs
    # more than the later ones: a row is inserted). Measured on its own, then the steady traffic of known residents.
    first = [(f"o_bench_{r:06d}", "你好", 10**11 + r) for r in range(args.residents)]
    contact = await closed_loop(url, signed(sim, first), args.concurrency, 600, expect_xml)
    print(contact.line(f"{label} first contact"), flush=True)
    source = MixSource(args.mix, args.residents, args.concurrency, random.Random(seed))
    work = signed(sim, [source.next(10**12 + i) for i in range(int(args.seconds * 9000) + 1000)])
    cpu = cpu_seconds(pid)
    closed = await closed_loop(url, work, args.concurrency, args.seconds, expect_xml)
    closed.cpu = cpu_seconds(pid) - cpu
    print(closed.line(f"{label} closed c={args.concurrency}"), flush=True)
    source = MixSource(args.mix, args.residents, args.concurrency, random.Random(seed + 1))
    fresh = signed(sim, [source.next(2 * 10**12 + i) for i in range(int(args.rate * args.seconds) + 10)])
    opened = await open_loop(url, fresh, args.rate, args.seconds, expect_xml)
    print(opened.line(f"{label} open {args.rate:.0f}/s"), f" server peak RSS {rss_mb(pid):.0f} MB", flush=True)
    return Run(closed, opened)


# ---- servers --------------------------------------------------------------------------------------------------

def _pinned(command: list[str], args) -> list[str]:
    return ["taskset", "-c", "0", *command] if args.pin else command


def run_echo(mode: str, args, base: Settings, seed: int) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}/wechat"
    key = [AES_KEY] if mode == "aes" else []
    sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid, AES_KEY if mode == "aes" else None)
    command = _pinned([PYTHON, "bench/echo_app.py", str(port), base.wechat_token, base.wechat_appid, *key], args)
    with process(command, ready_url=f"http://127.0.0.1:{port}/healthz") as p:
        return asyncio.run(measure(f"echo {mode} (wechatpy, no db)", url, sim, args, True, p.pid, seed))


def run_bare(args, base: Settings, seed: int) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}/wechat"
    sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid)
    command = _pinned([PYTHON, "bench/bare_app.py", str(port)], args)
    with process(command, ready_url=f"http://127.0.0.1:{port}/healthz") as p:
        return asyncio.run(measure("bare aiohttp 'success'", url, sim, args, False, p.pid, seed))


def run_linli(mode: str, args, base: Settings, tmp: str, seed: int) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}/wechat"
    pg_name = None
    if args.postgresql:
        database_url, pg_name = new_database("linli_bench_webhook")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp}/{mode}-{seed}.db"
    env = {"LINLI_DATABASE_URL": database_url, "LINLI_PORT": str(port), "LINLI_LOG_LEVEL": "WARNING",
           "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
    if mode == "aes":
        env["WECHAT_AES_KEY"] = AES_KEY
    try:
        linli("db", "upgrade", env=env)
        linli("org", "demo", env=env)
        sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid, AES_KEY if mode == "aes" else None)
        serve = [PYTHON, "-m", "bot.cli", "serve", *(["--workers", str(args.workers)] if args.workers > 1 else [])]
        engine = "PostgreSQL" if args.postgresql else "SQLite"
        label = f"linli {mode} ({engine}{f', {args.workers} workers' if args.workers > 1 else ''})"
        with process(_pinned(serve, args), env=env, ready_url=f"http://127.0.0.1:{port}/healthz") as p:
            return asyncio.run(measure(label, url, sim, args, True, p.pid, seed))
    finally:
        if pg_name:
            drop_database(pg_name)


# ---- summary --------------------------------------------------------------------------------------------------

def summary(results: dict[str, list[Run]], args) -> None:
    def med(runs: list[Run], pick) -> float:
        return statistics.median(pick(r) for r in runs)

    print(f"\nmedians of {args.repeat} run(s), mix {args.mix}, concurrency {args.concurrency}"
          f"{', server pinned to core 0, client to core 1' if args.pin else ''}:")
    for name, runs in results.items():
        print(f"  {name:<16} closed {med(runs, lambda r: r.closed.rate):8.0f} req/s  p99 "
              f"{med(runs, lambda r: r.closed.p99_ms):6.1f} ms  server CPU "
              f"{med(runs, lambda r: r.closed.cpu_us):5.0f} µs/msg   open {args.rate:.0f}/s p99 "
              f"{med(runs, lambda r: r.opened.p99_ms):6.1f} ms")
    for mode in ("plaintext", "aes"):
        if f"linli {mode}" in results and f"echo {mode}" in results:
            share = (med(results[f"linli {mode}"], lambda r: r.closed.rate)
                     / med(results[f"echo {mode}"], lambda r: r.closed.rate))
            cost = (med(results[f"echo {mode}"], lambda r: r.closed.cpu_us)
                    / med(results[f"linli {mode}"], lambda r: r.closed.cpu_us))
            print(f"  linli / echo ({mode}): {share:.0%} of the throughput; by server CPU per message "
                  f"{cost:.0%} (echo µs / linli µs, steady when the machine is shared)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mix", choices=["realistic", "ten"], default="realistic")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repetitions; medians reported")
    parser.add_argument("--pin", action="store_true", help="server on core 0, this client on core 1")
    parser.add_argument("--only", choices=["bare", "plaintext", "aes"], action="append")
    parser.add_argument("--workers", type=int, default=1, help="linli serve --workers N (default 1)")
    parser.add_argument("--postgresql", action="store_true", help="linli on a fresh PostgreSQL database")
    args = parser.parse_args()
    if args.pin:
        os.sched_setaffinity(0, {1})
    base = Settings()
    modes = args.only or ["plaintext", "aes"]
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repetition in range(args.repeat):
            seed = 1000 + repetition
            for mode in modes:
                if mode == "bare":
                    results.setdefault("bare", []).append(run_bare(args, base, seed))
                    continue
                results.setdefault(f"echo {mode}", []).append(run_echo(mode, args, base, seed))
                results.setdefault(f"linli {mode}", []).append(run_linli(mode, args, base, tmp, seed))
    summary(results, args)


if __name__ == "__main__":
    main()
