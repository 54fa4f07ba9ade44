"""Survey benchmark: 10,000 residents answer one 5-question campaign concurrently through the webhook of
`linli serve` (a subprocess, SQLite), each as a real dialog: 「调查」, five answers, 「确认」 (7 messages).

Prints votes/s (confirmed votes over the wall time of the run), message throughput, p50/p99 reply latency, and
checks that the responses stored equal the residents who confirmed, with no duplicate voice.

    .venv/bin/python bench/survey.py [--residents 10000] [--concurrency 400]
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

QUESTIONS = [
    {"id": "q1", "kind": "rating", "title": "服务态度", "labels": ["非常不满意", "不满意", "一般", "满意", "非常满意"]},
    {"id": "q2", "kind": "rating", "title": "维修及时", "labels": ["非常不满意", "不满意", "一般", "满意", "非常满意"]},
    {"id": "q3", "kind": "rating", "title": "保洁", "labels": ["非常不满意", "不满意", "一般", "满意", "非常满意"]},
    {"id": "q4", "kind": "single", "title": "续聘意愿", "options": ["支持", "不支持", "说不清"]},
    {"id": "q5", "kind": "multiple", "title": "最需改进", "options": ["服务态度", "维修", "保洁", "绿化", "其他"],
     "required": False},
]


async def seed(url: str, residents: int) -> int:
    """Bound owners with distinct flats across the demo district, and one open 5-question campaign."""
    from sqlalchemy import insert, select

    from handlers.surveys import service
    from storage.db import Database
    from storage.models import District, Estate, Resident, new_ref

    db = Database(url)
    now = datetime.now(timezone.utc)
    try:
        async with db.transaction() as session:
            estates = (await session.execute(select(Estate.id, Estate.community_id))).all()
            rows = [{"openid": f"o_bench_sv_{i:06d}", "ref": new_ref(), "community_id": estates[i % len(estates)][1],
                     "estate_id": estates[i % len(estates)][0], "building": str(1 + i // 1000), "room": str(i),
                     "role": "owner", "subscribed": True, "bound_at": now, "created_at": now}
                    for i in range(residents)]
            for start in range(0, len(rows), 2000):
                await session.execute(insert(Resident), rows[start:start + 2000])
            district = await session.scalar(select(District.id).where(District.code == "HX"))
            survey = await service.create(
                session, template="custom", subject_type="free", subject="基准测试", title="基准测试调查",
                scope_level="district", scope_ids=[district], opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(days=1), created_by="bench", now=now, questions=QUESTIONS)
            await service.schedule(session, survey, now)
            await service.open_due(session, now)
            return survey.id
    finally:
        await db.dispose()


async def count_votes(url: str, survey_id: int) -> tuple[int, int, set[str]]:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import Resident
    from storage.survey_models import SurveyResponse

    db = Database(url)
    try:
        async with db.transaction() as session:
            total = await session.scalar(select(func.count()).select_from(SurveyResponse)
                                         .where(SurveyResponse.survey_id == survey_id))
            distinct = await session.scalar(select(func.count(func.distinct(SurveyResponse.voter_key)))
                                            .where(SurveyResponse.survey_id == survey_id))
            openids = set(await session.scalars(select(Resident.openid).join(
                SurveyResponse, SurveyResponse.resident_id == Resident.id)))
            return total, distinct, openids
    finally:
        await db.dispose()


async def run(url: str, residents: int, concurrency: int, pid: int) -> dict:
    base = Settings()
    connector = aiohttp.TCPConnector(limit=concurrency)
    confirmed: set[str] = set()
    unanswered: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(7)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        sim = WeChatSimulator(url, base.wechat_token, base.wechat_appid, session=http)
        chat = TimedChat(sim)
        say = chat.say

        async def resident(i: int) -> None:
            openid = f"o_bench_sv_{i:06d}"
            script = ["调查", str(rng.randint(1, 5)), str(rng.randint(1, 5)), str(rng.randint(1, 5)),
                      str(rng.randint(1, 3)), rng.choice(["1 3", "2", "跳过", "4,5"]), "确认"]
            async with gate:
                for text in script[:-1]:
                    await say(openid, text)
                reply = await say(openid, script[-1])
            if "提交成功" in reply:
                confirmed.add(openid)
            elif not reply:
                unanswered.append(openid)  # late reply (pushed by the server): checked in the database

        began = time.perf_counter()
        await asyncio.gather(*(resident(i) for i in range(residents)))
        elapsed = time.perf_counter() - began
    return {"elapsed": elapsed, "latencies": chat.latencies, "failures": chat.failures, "confirmed": confirmed, "unanswered": unanswered,
            "rss": rss_mb(pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=400, help="residents in a dialog at the same time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'survey.db'}"
        port = free_port()
        env = {"LINLI_DATABASE_URL": db_url, "LINLI_PORT": str(port), "LINLI_LOG_LEVEL": "WARNING",
               "LINLI_WECHAT_API_BASE": "http://127.0.0.1:9"}
        linli("db", "upgrade", env=env)
        linli("org", "demo", env=env)
        survey_id = asyncio.run(seed(db_url, args.residents))
        command = [PYTHON, "-m", "bot.cli", "serve"]
        print(f"server: linli serve; {args.residents} residents, concurrency {args.concurrency}, SQLite", flush=True)
        log = Path(tmp) / "server.log"
        with process(command, env, f"http://127.0.0.1:{port}/healthz", log=log) as proc:
            result = asyncio.run(run(f"http://127.0.0.1:{port}/wechat", args.residents, args.concurrency, proc.pid))
        total, distinct, voted = asyncio.run(count_votes(db_url, survey_id))
        warnings = log.read_text(errors="replace").count("\n")
    lat, confirmed = result["latencies"], result["confirmed"]
    late_stored = len(set(result["unanswered"]) & voted)
    print(f"votes: {len(confirmed)} confirmed in {result['elapsed']:.1f} s = {len(confirmed) / result['elapsed']:.0f} "
          f"votes/s; {len(lat)} messages = {len(lat) / result['elapsed']:.0f} msg/s")
    print(f"reply latency: p50 {percentile(lat, 50) * 1000:.1f} ms  p99 {percentile(lat, 99) * 1000:.1f} ms  "
          f"max {max(lat) * 1000:.1f} ms; server peak RSS {result['rss']:.0f} MB; "
          f"request failures {result['failures']}; server log lines {warnings}")
    print(f"stored responses {total}, distinct voices {distinct}, residents who confirmed {len(confirmed)}"
          f" (+{late_stored} whose reply came late); duplicates {total - distinct}")
    ok = (total == distinct == len(confirmed) + late_stored and confirmed <= voted
          and len(confirmed) + len(result["unanswered"]) == len(set(result["confirmed"]) | set(result["unanswered"])) > 0)
    if len(confirmed) + late_stored < args.residents:
        print(f"note: {args.residents - len(confirmed) - late_stored} residents did not get their vote in")
    print("check:", "OK" if ok else "MISMATCH")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
