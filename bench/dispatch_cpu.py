"""The dispatcher alone: this process's CPU per message (linli's side only, not the database server's).

Realistic texts (`bench/mix/` policy questions and chatter) from 200 residents, 20 at a time, each with a replay
claim as the webhook makes it, after their first contact and a warm-up. No HTTP, no XML: what is left is the
dispatcher, the handlers and the database statements. A fresh PostgreSQL database (dropped after), or with
`--sqlite` a fresh SQLite file.

With `--webhook-mix` the messages are `bench/webhook.py`'s realistic mix instead (2,000 residents, 50 at a time):
绑定 → 投诉 dialogs, 我的信息 / 帮助 / 菜单 / 我的投诉, chatter, questions and 2% WeChat retries of a message
already answered, so the dialog steps and the retry path are in the figure too.

    .venv/bin/python bench/dispatch_cpu.py [--messages 1000] [--sqlite] [--webhook-mix]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PG_ADMIN, pg_admin  # noqa: E402

MIX = Path(__file__).resolve().parent / "mix"


async def run(url: str, n: int, webhook_mix: bool = False) -> None:
    from bot import replay, webhook
    from bot.app import build_services, create_app
    from bot.dispatch import Delivery
    from bot.settings import Settings
    from bot.types import InboundMessage
    from storage.migrate import upgrade
    from storage.repositories.org import load_demo

    await asyncio.to_thread(upgrade, url)
    settings = Settings().with_(database_url=url)
    services = build_services(settings)
    async with services.db.transaction() as session:
        await load_demo(session)
    dispatcher = create_app(settings, services=services)[webhook.DISPATCHER]
    lines = [line.strip() for name in ("policy_questions.txt", "chatter.txt")
             for line in (MIX / name).read_text().splitlines() if line.strip()]
    rng, sent = random.Random(7), [0]

    def message(openid: str, content: str, msg_id: int | None = None) -> tuple[InboundMessage, Delivery]:
        sent[0] += 1
        stamp = str(int(time.time()))
        inbound = InboundMessage(kind="text", openid=openid, account="gh_bench", create_time=stamp,
                                 msg_id=str(10**9 + sent[0] if msg_id is None else msg_id), content=content)
        return inbound, Delivery(claim=replay.claim_for(stamp, f"n{sent[0]}", content.encode(), 300))

    if webhook_mix:
        from bench.webhook import MixSource

        residents = [f"o_bench_{i:06d}" for i in range(2000)]
        lanes, source = 50, MixSource("realistic", len(residents), 50, rng)
        for openid in residents:  # first contact
            await dispatcher.feed(*message(openid, "你好"))
        drawn = [source.next(10**12 + i) for i in range(300 + n)]  # (openid, text, MsgId): a retry repeats one
        for openid, text, msg_id in drawn[:300]:  # warm-up, as below
            await dispatcher.feed(*message(openid, text, msg_id))
        queue = [(openid, text, msg_id) for openid, text, msg_id in reversed(drawn[300:])]
    else:
        residents, lanes = [f"o_cpu_{i:03d}" for i in range(200)], 20
        for openid in residents:  # first contact
            await dispatcher.feed(*message(openid, "你好"))
        for _ in range(100):  # every statement prepared on the pooled connections, the knowledge base warm
            await dispatcher.feed(*message(rng.choice(residents), rng.choice(lines)))
        queue = [(rng.choice(residents), rng.choice(lines), None) for _ in range(n)]

    async def lane() -> None:
        while queue:
            await dispatcher.feed(*message(*queue.pop()))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{os.getcwd()}: {n} messages, dispatcher CPU {cpu / n * 1e6:.0f} µs/msg, wall {n / wall:.0f} msg/s")
    await services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--webhook-mix", action="store_true", help="bench/webhook.py's realistic mix")
    args = parser.parse_args()
    name = f"linli_dispatch_cpu_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if args.sqlite:
        asyncio.run(run(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/{name}.db", args.messages, args.webhook_mix))
        return
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(run(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.messages, args.webhook_mix))
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
