"""Demo history of surveys (bot/demo.py): the property-service satisfaction survey of 津安物业 in 谊景社区, opened a
month ago, answered by the demo owners, closed and its results published as a notice; and the developer's
house-quality survey of 津城置业, open now (a resident of 谊景花园 who replies 「调查」 can take part). Everything
goes through `service` (create → schedule → the opening sweep → close → publish) and `voting.submit`."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from bot.localtime import LOCAL_TZ
from handlers.surveys import service, voting
from storage.repositories import surveys as repo

# the owners' ratings of 津安物业 by question (cycled), and a few comments
RATINGS = [[4, 5, 4, 4, 3, 3], [5, 5, 4, 5, 4, 4], [3, 2, 4, 3, 3, 2], [4, 4, 5, 4, 4, 3], [2, 2, 3, 3, 2, 1],
           [4, 3, 4, 4, 4, 3], [5, 4, 5, 5, 4, 4]]
COMMENTS = ["电梯维修能再快一点就好了。", "保洁阿姨很负责，楼道一直很干净。", "希望公共收益每月按时公示。", None, None,
            "门岗夜里经常没人。", None]
DEVELOPER_RATINGS = [[3, 2, 3], [2, 2, 2], [4, 3, 3]]


def _quarter(moment) -> str:
    day = moment.astimezone(LOCAL_TZ)
    return f"{day.year}年第{'一二三四'[(day.month - 1) // 3]}季度"


def _property_answers(n: int) -> dict:
    scores = RATINGS[n % len(RATINGS)]
    answers = {f"q{i + 1}": s for i, s in enumerate(scores)}
    answers["q7"] = 1 if sum(scores) >= 20 else (2 if sum(scores) < 14 else 3)
    answers["q8"] = [2] if scores[1] <= 3 else ([6] if scores[5] <= 3 else None)
    answers["q9"] = COMMENTS[n % len(COMMENTS)]
    return answers


def _developer_answers(n: int) -> dict:
    q1, q2, q3 = DEVELOPER_RATINGS[n % len(DEVELOPER_RATINGS)]
    return {"q1": q1, "q2": q2, "q3": q3, "q4": 1 + n % 3, "q5": [1] if n % 2 == 0 else [3, 4],
            "q6": "顶楼防水问题拖了很久。" if n == 0 else None}


async def _campaign(session: AsyncSession, world: DemoWorld, *, template: str, subject: str, opened_days: int,
                    closes_at, estates: list[str], answers, title: str | None = None):
    opens_at = world.ago(opened_days, 9)
    created = opens_at - timedelta(days=2)
    survey = await service.create(session, template=template, subject=subject, scope_level="community",
                                  scope_ids=[world.communities["HX-YYL-YJ"]], opens_at=opens_at, closes_at=closes_at,
                                  created_by="staff:yijing", now=created, title=title)
    await service.schedule(session, survey, created)
    await service.open_due(session, opens_at)
    survey = await repo.get(session, survey.id)
    await session.refresh(survey)
    n = 0
    for code in estates:
        for resident in world.owners(code):
            when = min(opens_at + timedelta(days=1 + (n * 5) % 9, hours=n % 8), world.now - timedelta(minutes=n + 1))
            await voting.submit(session, survey, resident, answers(n), survey.questions_version, when,
                                household_key=world.services.settings.household_secret)
            n += 1
    return survey


async def load(session: AsyncSession, world: DemoWorld) -> None:
    closed = await _campaign(session, world, template="property", subject="WY-JA", opened_days=28,
                             closes_at=world.ago(12, 18), estates=["HX-YYL-YJ-01", "HX-YYL-YJ-02"],
                             answers=_property_answers, title=f"{_quarter(world.ago(28))}津安物业服务质量满意度调查")
    await service.close_due(session, world.ago(12, 18) + timedelta(minutes=5))
    await session.refresh(closed)
    await service.publish(session, closed, "staff:yijing", world.ago(11, 10))
    running = await _campaign(session, world, template="developer", subject="KF-JC", opened_days=5,
                              closes_at=world.now + timedelta(days=9), estates=["HX-YYL-YJ-03"],
                              answers=_developer_answers)
    await session.refresh(running)
