"""Webhook benchmark: signed text messages from many simulated residents against `linli serve` on loopback.

Runs, in one process each: linli in plaintext mode, linli in safe (AES) mode, and a bare aiohttp app that
answers `success`, so the ratio is visible. For each: closed loop (fixed concurrency, as fast as possible)
and open loop (sends scheduled at a fixed rate; latency counted from the scheduled time).

    .venv/bin/python bench/webhook.py [--seconds 10] [--concurrency 64] [--rate 500] [--residents 2000]
                                      [--workers N]   (linli serve --workers N: N processes on one port)
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, free_port, linli, percentile, process, rss_mb  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.simulator import WeChatSimulator, text_xml  # noqa: E402

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
QUESTIONS = ["物业费收支要公示吗", "维修基金怎么用", "业委会怎么成立", "联席会议多久开一次", "你好", "帮助",
             "我的信息", "物业不作为找谁", "停车费归谁", "小区公共收益怎么公开"]


@dataclass
class Result:
    sent: int
    ok: int
    failed: int
    seconds: float
    latencies: list[float]

    def line(self, label: str) -> str:
        lat = self.latencies
        return (f"{label:<34} {self.ok / self.seconds:9.0f} req/s  p50 {percentile(lat, 50) * 1000:7.1f} ms  "
                f"p99 {percentile(lat, 99) * 1000:7.1f} ms  failures {self.failed}/{self.sent}")


def bodies(sim: WeChatSimulator, count: int, residents: int, first_id: int = 10**12) -> list[tuple[dict, bytes]]:
    """`count` signed messages with distinct MsgIds from `first_id` on (a MsgId seen before is a retry)."""
    rng = random.Random(first_id)
    out = []
    for i in range(count):
        xml = text_xml(f"o_bench_{rng.randrange(residents):06d}", rng.choice(QUESTIONS), msg_id=first_id + i)
        query, body = sim.sign(xml)
        out.append((query, body.encode()))
    return out


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


async def measure(label: str, url: str, sim: WeChatSimulator, args, expect_xml: bool, pid: int) -> None:
    # First contact: one message from every simulated resident creates them (a resident's first message costs
    # more than the later ones: a row is inserted). Measured on its own, then the steady traffic of known residents.
    first = [sim.sign(text_xml(f"o_bench_{r:06d}", "你好", msg_id=10**11 + r)) for r in range(args.residents)]
    contact = await closed_loop(url, [(q, b.encode()) for q, b in first], args.concurrency, 600, expect_xml)
    print(contact.line(f"{label} first contact"), flush=True)
    work = bodies(sim, int(args.seconds * 6000) + 1000, args.residents)
    closed = await closed_loop(url, work, args.concurrency, args.seconds, expect_xml)
    print(closed.line(f"{label} closed c={args.concurrency}"), flush=True)
    fresh = bodies(sim, int(args.rate * args.seconds) + 10, args.residents, first_id=2 * 10**12)
    opened = await open_loop(url, fresh, args.rate, args.seconds, expect_xml)
    print(opened.line(f"{label} open {args.rate:.0f}/s"), f" server peak RSS {rss_mb(pid):.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--only", choices=["bare", "plaintext", "aes"], action="append")
    parser.add_argument("--workers", type=int, default=1, help="linli serve --workers N (default 1)")
    args = parser.parse_args()
    base = Settings()
    runs = args.only or ["bare", "plaintext", "aes"]
    with tempfile.TemporaryDirectory() as tmp:
        for run in runs:
            port = free_port()
            url = f"http://127.0.0.1:{port}/wechat"
            if run == "bare":
                sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid)
                with process([PYTHON, "bench/bare_app.py", str(port)], ready_url=f"http://127.0.0.1:{port}/healthz") as p:
                    asyncio.run(measure("bare aiohttp 'success'", url, sim, args, False, p.pid))
                continue
            db = Path(tmp) / f"{run}.db"
            env = {"LINLI_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "LINLI_PORT": str(port),
                   "LINLI_LOG_LEVEL": "WARNING", "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
            if run == "aes":
                env["WECHAT_AES_KEY"] = AES_KEY
            linli("db", "upgrade", env=env)
            linli("org", "demo", env=env)
            sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid, AES_KEY if run == "aes" else None)
            serve = [PYTHON, "-m", "bot.cli", "serve", *(["--workers", str(args.workers)] if args.workers > 1 else [])]
            label = f"linli {run} (SQLite{f', {args.workers} workers' if args.workers > 1 else ''})"
            with process(serve, env=env, ready_url=f"http://127.0.0.1:{port}/healthz") as p:
                asyncio.run(measure(label, url, sim, args, True, p.pid))


if __name__ == "__main__":
    main()
