"""One voice, enforced by the database: concurrent confirmations from two apps on one database (and retries of
the same message), the same household racing, and erasure keeping the vote."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.simulator import text_xml
from handlers.privacy.erasure import erase_resident
from handlers.registration.rules import parse_room
from handlers.surveys import stats, voting
from storage.db import Database
from storage.models import Resident
from storage.repositories import surveys as repo
from storage.survey_models import SurveyResponse, SurveyResponseEvent
from tests.support import fixed_clock
from tests.surveys.conftest import NOW, add_resident, new_campaign, routers

ANSWER_ALL = [("调查", "第 1/9"), *[("4", "题")] * 6, ("1", "第 8/9"), ("跳过", "第 9/9"), ("跳过", "请核对")]
ANSWERS = {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 4, "q7": 1, "q8": None, "q9": None}


async def rows(services, model, sid):
    async with services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model).where(model.survey_id == sid))


async def test_confirm_raced_on_two_apps_and_retried_counts_once(start_bot, settings, survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    other = await start_bot(settings, clock=fixed_clock(NOW), routers=routers(), plugins=[], demo=False)
    me = await add_resident(services, "HX-YYL-YJ-01")
    await survey_bot.dialog(me.openid, ANSWER_ALL)
    retry = text_xml(me.openid, "确认", msg_id=987654321)  # WeChat retries the same message to both workers
    replies = await asyncio.gather(
        survey_bot.sim.post(retry), other.sim.post(retry), survey_bot.sim.post(retry),
        other.sim.text(me.openid, "确认"), survey_bot.sim.text(me.openid, "确认"))
    assert all(r.status == 200 for r in replies)
    assert sum("提交成功" in (r.text or "") for r in replies[:3]) == 3  # a retry gets the stored reply
    assert await rows(services, SurveyResponse, sid) == 1
    assert await rows(services, SurveyResponseEvent, sid) == 1  # later confirmations changed nothing


async def test_household_members_confirming_at_once_on_two_apps_give_one_voice(start_bot, settings, survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    other = await start_bot(settings, clock=fixed_clock(NOW), routers=routers(), plugins=[], demo=False)
    family = [await add_resident(services, "HX-YYL-YJ-02", building="9", room="901") for _ in range(4)]
    for person in family:
        await survey_bot.dialog(person.openid, ANSWER_ALL)
    bots = [survey_bot, other, survey_bot, other]
    replies = await asyncio.gather(*(b.say(p.openid, "确认") for b, p in zip(bots, family)))
    assert sum("提交成功" in r for r in replies) == 1
    assert sum("已由其他家庭成员提交" in r for r in replies) == 3
    assert await rows(services, SurveyResponse, sid) == 1


async def test_concurrent_submissions_through_the_service_on_separate_engines(demo_services):
    services = demo_services
    sid = await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01")
    sibling = await add_resident(services, "HX-YYL-YJ-01", building=me.building, room=me.room)

    async def vote(person, q1):
        db = Database(services.settings.database_url)
        try:
            async with db.transaction() as session:
                survey = await repo.get(session, sid)
                cast = await voting.submit(session, survey, person, {**ANSWERS, "q1": q1}, 1, NOW,
                                           household_key=services.settings.household_secret)
                return cast.outcome
        except voting.VoteRefused:
            return "refused"
        finally:
            await db.dispose()

    outcomes = await asyncio.gather(*(vote(me, 1 + i % 5) for i in range(6)), *(vote(sibling, 3) for _ in range(3)))
    async with services.db.transaction() as session:
        stored = list(await session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == sid)))
        events = await session.scalar(select(func.count()).select_from(SurveyResponseEvent))
    assert len(stored) == 1
    owner = stored[0].resident_ref
    assert outcomes.count("new") == 1
    if owner == me.ref:
        assert outcomes[6:] == ["refused"] * 3
    else:
        assert outcomes[:6] == ["refused"] * 6
    assert events == outcomes.count("new") + outcomes.count("changed")


async def test_erasing_a_resident_keeps_their_vote_counted(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01", building="7", room="702")
    answer_all = [*ANSWER_ALL[:-2], ("跳过", "第 9/9"), ("楼道灯总坏，我是7号楼702的李阿姨13812345678", "请核对")]
    await survey_bot.dialog(me.openid, [*answer_all, ("确认", "提交成功")])
    async with services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, me.id), NOW)
    async with services.db.transaction() as session:
        row = await session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == sid))
        [event] = list(await session.scalars(select(SurveyResponseEvent).where(SurveyResponseEvent.survey_id == sid)))
        assert await session.get(Resident, me.id) is None
    assert row.resident_id is None and row.resident_ref != me.ref and row.answers["q1"] == 4  # still counted
    assert "q9" not in row.answers and "q9" not in event.answers  # their words are gone
    assert event.resident_ref == row.resident_ref != me.ref
    assert "702" not in row.voter_key and row.voter_key.startswith("h:")  # the household, keyed, not in clear
    assert "openid" not in {c.name for c in SurveyResponse.__table__.columns}


async def test_erase_then_bind_again_then_vote_again_is_refused(survey_bot):
    """One voice per household survives the voter's erasure: the household's keyed hash stays with the vote."""
    services = survey_bot.services
    sid = await new_campaign(services)
    first, second = parse_room("5-2-502"), parse_room("5号楼二单元502")  # the same flat, bound twice
    assert (first.building, first.room) != (second.building, second.room)
    me = await add_resident(services, "HX-YYL-YJ-01", building=first.building, room=first.room, openid="o_twice")
    await survey_bot.dialog(me.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    async with services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, me.id), NOW)
    again = await add_resident(services, "HX-YYL-YJ-01", building=second.building, room=second.room,
                               openid="o_twice")
    assert again.ref != me.ref
    assert "已由其他家庭成员提交" in await survey_bot.say(again.openid, "调查")
    async with services.db.transaction() as session:
        survey = await repo.get(session, sid)
        with pytest.raises(voting.VoteRefused, match="已由其他家庭成员提交"):
            await voting.submit(session, survey, await session.get(Resident, again.id), ANSWERS, 1, NOW,
                                household_key=services.settings.household_secret)
    assert await rows(services, SurveyResponse, sid) == 1
    async with services.db.transaction() as session:
        result = await stats.results(session, await repo.get(session, sid))
    assert result["respondents"] == 1 and result["respondents"] <= result["eligible"]


def test_the_household_key_is_a_typed_setting():
    from bot.settings import SettingsError, parse

    assert parse({"LINLI_HOUSEHOLD_KEY": "a-long-household-secret"}).household_secret == b"a-long-household-secret"
    assert parse({}).household_secret == parse({}).household_secret != parse(
        {"WECHAT_SECRET": "another-app-secret"}).household_secret  # derived default, stable per deployment
    with pytest.raises(SettingsError, match="LINLI_HOUSEHOLD_KEY"):
        parse({"LINLI_HOUSEHOLD_KEY": "short"})
