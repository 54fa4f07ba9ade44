"""Scheduled open and close with a controlled clock, the invitation through the delivery engine, reminders only
to those who have not answered (households counted), at most N rounds with a minimum gap, idempotent sweeps."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.jobs import Job
from handlers.surveys import jobs as survey_jobs
from handlers.surveys.jobs import sweep
from storage.delivery_models import Broadcast
from storage.repositories import surveys as repo
from storage.survey_models import Survey
from tests.surveys.conftest import NOW, add_resident, new_campaign

ANSWER_ALL = [("调查", "第 1/9"), *[("4", "题")] * 6, ("1", "第 8/9"), ("跳过", "第 9/9"), ("跳过", "请核对")]
HOUR = timedelta(hours=1)


async def broadcasts(services, sid):
    async with services.db.transaction() as session:
        return list(await session.scalars(select(Broadcast).where(Broadcast.source.like(f"survey:{sid}:%"))
                                          .order_by(Broadcast.id)))


async def status(services, sid):
    async with services.db.transaction() as session:
        return (await repo.get(session, sid)).status


async def test_open_invite_remind_and_close_on_schedule(survey_bot):
    services, clock = survey_bot.services, survey_bot.services.clock
    sid = await new_campaign(services, opens_at=NOW + HOUR, closes_at=NOW + 72 * HOUR, open_now=False,
                             reminders_max=2, reminder_gap_hours=24)
    voter = await add_resident(services, "HX-YYL-YJ-01", building="2", room="201")
    same_flat = await add_resident(services, "HX-YYL-YJ-01", building="2", room="201")
    silent = await add_resident(services, "HX-YYL-YJ-02")
    await add_resident(services, "HX-YYL-YJ-02", role="tenant")
    await add_resident(services, "HX-YYL-YJ-03")  # another company's estate
    await add_resident(services, "HX-YYL-PJ-01")  # another community

    assert (await sweep(services, NOW)).opened == [] and await status(services, sid) == "scheduled"
    assert "目前没有" in await survey_bot.say(voter.openid, "调查")

    clock.state["now"] = NOW + HOUR
    report = await sweep(services, clock())
    assert report.opened == [sid] and await status(services, sid) == "open"
    assert (await sweep(services, clock())).opened == []  # a second sweep opens nothing twice
    [invite] = await broadcasts(services, sid)
    assert invite.category == "survey" and invite.scope["level"] == "estate" and invite.scope["roles"] == ["owner"]
    assert len(invite.scope["ids"]) == 2 and "回复「调查」" in invite.text

    await survey_bot.dialog(voter.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    clock.state["now"] = NOW + 24 * HOUR  # 23 h after the invitation: too early
    assert (await sweep(services, clock())).reminded == []
    clock.state["now"] = NOW + 25 * HOUR
    assert (await sweep(services, clock())).reminded == [(sid, 1)]
    assert (await sweep(services, clock())).reminded == []  # the round is taken once
    reminder = (await broadcasts(services, sid))[-1]
    assert reminder.scope["residents"] == [silent.id]  # not the voter, not their household, not the tenant
    assert same_flat.id not in reminder.scope["residents"]

    clock.state["now"] = NOW + 49 * HOUR
    assert (await sweep(services, clock())).reminded == [(sid, 1)]
    clock.state["now"] = NOW + 71 * HOUR
    assert (await sweep(services, clock())).reminded == []  # at most two rounds
    assert len(await broadcasts(services, sid)) == 3

    clock.state["now"] = NOW + 72 * HOUR - timedelta(minutes=10)
    await survey_bot.dialog(silent.openid, [("调查", "第 1/9"), ("5", "第 2/9")])  # starts, then the campaign closes
    clock.state["now"] = NOW + 72 * HOUR
    assert (await sweep(services, clock())).closed == [sid]
    assert (await sweep(services, clock())).closed == []
    assert "已经结束" in await survey_bot.say(silent.openid, "4")
    assert "目前没有" in await survey_bot.say(silent.openid, "调查")
    async with services.db.transaction() as session:
        survey = await session.get(Survey, sid)
        assert survey.status == "closed" and survey.closed_at == NOW + 72 * HOUR
        assert sum(survey.eligible_snapshot.values()) == 2  # flat 2-201 and the silent owner's flat
        assert await repo.draft(session, sid, silent.id) is None


async def test_reminders_stop_when_everyone_answered(survey_bot):
    services, clock = survey_bot.services, survey_bot.services.clock
    sid = await new_campaign(services, reminder_gap_hours=1)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    clock.state["now"] = NOW + 2 * HOUR
    assert (await sweep(services, clock())).reminded == [(sid, 0)]
    assert len(await broadcasts(services, sid)) == 1  # only the invitation: nobody to remind


def test_jobs_are_exposed_for_the_scheduler():
    [job] = survey_jobs()
    assert isinstance(job, Job) and job.every and job.run is sweep
