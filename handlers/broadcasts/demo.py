"""Demo history of group messages (bot/demo.py): 谊景社区's reminder about the heating trial, sent a few minutes
before the demo was loaded and still going out (the delivery engine has expanded the first residents; `make run`'s
sender finishes it through the sandbox), and a fee reminder scheduled for tomorrow morning. Created by
`outbox.create_broadcast` as the console's 群发 does."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import outbox
from bot.delivery.channels import Content
from bot.demo import DemoWorld
from bot.localtime import LOCAL_TZ
from storage.repositories import deliveries

SENDING = Content(
    "本周四起谊景社区各小区开始供暖试水，请居民在家留人并检查暖气阀门，发现跑冒滴漏请及时联系物业服务中心。",
    "供暖试水提醒", "本周四起开始供暖试水，请在家留人并检查阀门")
SCHEDULED = Content(
    "本采暖季供暖费开始缴纳，可通过天津热力官方渠道线上缴纳，或到社区便民服务点办理。请勿轻信陌生人上门收费。",
    "供暖费缴纳提醒", "供暖费开始缴纳，请通过官方渠道办理")
EXPANDED_FIRST = 8  # residents the engine has queued so far


async def load(session: AsyncSession, world: DemoWorld) -> None:
    scope = outbox.Scope("community", [world.communities["HX-YYL-YJ"]])
    sending = await outbox.create_broadcast(session, category="notice", scope=scope, content=SENDING,
                                            created_by="staff:yijing", now=world.now - timedelta(minutes=3))
    await deliveries.expand_step(session, sending.id, EXPANDED_FIRST)
    tomorrow = (world.now.astimezone(LOCAL_TZ) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                            microsecond=0)
    await outbox.create_broadcast(session, category="notice", scope=scope, content=SCHEDULED,
                                  created_by="staff:yijing", send_at=tomorrow, now=world.now - timedelta(minutes=20))
