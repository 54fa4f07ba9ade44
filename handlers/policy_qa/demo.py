"""Demo history of the policy Q&A (bot/demo.py): questions residents of 谊景社区 asked this month that the bundled
knowledge base could not answer (the 「未解答的问题」 list staff use to grow it), recorded by
`service.record_question` as the chat does, and one question handed to staff (转人工) still waiting for an answer.
tests/demo/test_demo_history.py checks that the knowledge base indeed does not answer them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from handlers.policy_qa import service

# (question as residents typed it, outcome of the knowledge base, how many times it was asked)
GAPS = [
    ("楼上空调外机一直往我家窗台滴水怎么办", "ambiguous", 6),
    ("门禁卡丢了补办要多少钱", "ambiguous", 5),
    ("小区里有人在楼顶养鸽子，可以管吗", "ambiguous", 4),
    ("快递柜收超时费合理吗", "ambiguous", 3),
    ("楼下烧烤店油烟太大", "ambiguous", 2),
    ("地下室能租出去住人吗", "ambiguous", 2),
    ("业主群里有人骂人怎么办", "none", 1),
]
INQUIRY = "我家是2019年买的房子，现在卫生间渗水，开发商说过了保修期，到底防水保修几年？"


async def load(session: AsyncSession, world: DemoWorld) -> None:
    askers = [r for code in ("HX-YYL-YJ-01", "HX-YYL-YJ-02", "HX-YYL-YJ-03") for r in world.residents.get(code, [])]
    if not askers:
        return
    n = 0
    for question, outcome, times in GAPS:
        for k in range(times):
            n += 1
            await service.record_question(session, askers[n % len(askers)], question, outcome,
                                          world.ago(27 - (n * 7) % 27, 8 + n % 12, n % 60))
    await service.inquiry_of(session, askers[1], INQUIRY, world.ago(1, 20) - timedelta(minutes=13))
