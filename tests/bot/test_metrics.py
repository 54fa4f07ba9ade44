"""`/metrics`: Prometheus text that counts what the webhook, the WeChat client and the database saw."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.delivery import outbox
from bot.delivery.channels import Content
from bot.delivery.outbox import Scope
from bot.outbound import WindowExpired
from bot.router import Router
from bot.simulator import text_xml
from bot.types import Reply
from storage.delivery_models import Delivery


def boom_router() -> Router:
    router = Router("boom")

    @router.words("出错")
    async def fail(ctx):
        raise RuntimeError("a handler bug")

    @router.text()
    async def echo(ctx):
        return Reply(f"收到：{ctx.text}")

    return router


async def scrape(bot) -> dict[tuple[str, tuple], float]:
    async with bot.sim.session.get(bot.server.make_url("/metrics")) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(after, before, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_messages_duplicates_errors_and_rejections(start_bot, settings):
    bot = await start_bot(settings, routers=[boom_router()])
    before = await scrape(bot)

    assert (await bot.sim.text("o_m1", "你好")).text == "收到：你好"
    xml = text_xml("o_m1", "同一条消息", msg_id=777001)
    for _ in range(3):  # WeChat retries: one effect, two dedupe hits
        assert (await bot.sim.post(xml)).text == "收到：同一条消息"
    assert "出了问题" in (await bot.sim.text("o_m1", "出错")).text
    query, body = bot.sim.sign(text_xml("o_m1", "伪造"))
    async with bot.sim.session.post(bot.sim.url, params={**query, "signature": "0" * 40}, data=body) as resp:
        assert resp.status == 403

    after = await scrape(bot)
    assert delta(after, before, "linli_webhook_messages_total", outcome="replied") == 2
    assert delta(after, before, "linli_webhook_messages_total", outcome="duplicate") == 2
    assert delta(after, before, "linli_webhook_messages_total", outcome="error") == 1
    assert delta(after, before, "linli_dedupe_hits_total") == 2
    assert delta(after, before, "linli_handler_errors_total") == 1
    assert delta(after, before, "linli_webhook_rejected_total", status="403") == 1
    assert delta(after, before, "linli_webhook_seconds_count") == 6
    assert delta(after, before, "linli_http_requests_total", route="/wechat", method="POST", status="200") == 5
    assert delta(after, before, "linli_http_requests_total", route="/wechat", method="POST", status="403") == 1
    # the first scrape itself was counted by route template
    assert delta(after, before, "linli_http_requests_total", route="/metrics", method="GET", status="200") == 1


async def test_metrics_count_wechat_errcodes_and_read_the_queue(start_bot, settings):
    bot = await start_bot(settings)
    await bot.sim.text("o_metrics", "你好")  # a follower who just wrote: the customer-service window is open
    before = await scrape(bot)
    async with bot.sim.session.post(f"{bot.sim.sandbox_url}/sandbox/faults",
                                    json={"endpoint": "message/custom/send", "errcode": 45015, "count": 1}) as resp:
        assert resp.status == 200
    with pytest.raises(WindowExpired):
        await bot.services.wechat.send_text("o_metrics", "你好")
    await bot.services.wechat.send_text("o_metrics", "你好")  # the fault fired once

    now = datetime.now(timezone.utc)
    async with bot.services.db.transaction() as session:
        await outbox.create_broadcast(session, category="notice", scope=Scope(), content=Content("稍后发送"),
                                      created_by="test", send_at=now + timedelta(days=1), now=now)
        due = await outbox.create_broadcast(session, category="notice", scope=Scope(), content=Content("现在发送"),
                                            created_by="test", now=now)
        session.add_all([Delivery(broadcast_id=due.id, status="queued") for _ in range(3)])

    after = await scrape(bot)
    assert delta(after, before, "linli_wechat_errcodes_total", api="message/custom/send", errcode="45015") == 1
    assert delta(after, before, "linli_wechat_api_calls_total", api="message/custom/send", result="errcode") == 1
    assert delta(after, before, "linli_wechat_api_calls_total", api="message/custom/send", result="ok") == 1
    assert after[("linli_delivery_queue", (("status", "queued"),))] == 3
    assert after[("linli_broadcasts", (("status", "scheduled"),))] == 1
    assert after[("linli_broadcasts", (("status", "sending"),))] == 1
