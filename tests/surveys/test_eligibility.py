"""Who may answer: out of scope, unbound, non-owner, second household member, a subject's own estates only,
quotas per estate — checked through the chat and the service."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from handlers.surveys import voting
from storage.repositories import surveys as repo
from storage.survey_models import SurveyResponse
from tests.surveys.conftest import add_resident, new_campaign

ANSWER_ALL = [("调查", "第 1/9"), *[("4", "题")] * 6, ("1", "第 8/9"), ("跳过", "第 9/9"), ("跳过", "请核对")]


async def responses(services, sid):
    async with services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(SurveyResponse)
                                    .where(SurveyResponse.survey_id == sid))


async def test_out_of_scope_unbound_and_tenant_are_refused(survey_bot):
    services = survey_bot.services
    await new_campaign(services)  # 津安物业 in 谊景社区: its estates are 谊景花园 and 友谊新城, not 谊安里
    other_community = await add_resident(services, "HX-YYL-PJ-01")
    other_company = await add_resident(services, "HX-YYL-YJ-03")   # same community, served by 海河畔物业
    tenant = await add_resident(services, "HX-YYL-YJ-01", role="tenant")
    unbound = await add_resident(services, None)
    assert "目前没有" in await survey_bot.say(other_community.openid, "调查")
    assert "目前没有" in await survey_bot.say(other_company.openid, "调查")
    assert "仅限业主" in await survey_bot.say(tenant.openid, "调查")
    assert "请回复「绑定」" in await survey_bot.say(unbound.openid, "调查")


async def test_second_household_member_cannot_vote_again(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    wife = await add_resident(services, "HX-YYL-YJ-01", building="3号楼", room="501")
    husband = await add_resident(services, "HX-YYL-YJ-01", building="3", room="501室")  # same flat, other spelling
    neighbour = await add_resident(services, "HX-YYL-YJ-01", building="3", room="502")
    await survey_bot.dialog(wife.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    assert "已由其他家庭成员提交" in await survey_bot.say(husband.openid, "调查")
    await survey_bot.dialog(neighbour.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    assert await responses(services, sid) == 2


async def test_household_member_who_started_before_the_other_voted_is_refused_at_confirm(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services)
    a = await add_resident(services, "HX-YYL-YJ-02", building="7", room="1201")
    b = await add_resident(services, "HX-YYL-YJ-02", building="7", room="1201")
    await survey_bot.dialog(a.openid, ANSWER_ALL)
    await survey_bot.dialog(b.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    assert "已由其他家庭成员提交" in await survey_bot.say(a.openid, "确认")
    assert await responses(services, sid) == 1


async def test_per_person_campaign_without_owner_rule_counts_each_resident(survey_bot):
    services = survey_bot.services
    sid = await new_campaign(services, template="old-estate", subject="谊景社区旧楼区管理站", owners_only=False,
                             per_household=False)
    tenant = await add_resident(services, "HX-YYL-YJ-03", role="tenant", building="1", room="101")
    owner = await add_resident(services, "HX-YYL-YJ-03", building="1", room="101")
    no_room = await add_resident(services, "HX-YYL-YJ-03", building=None, room=None)
    for person in (tenant, owner, no_room):
        await survey_bot.dialog(person.openid, [*ANSWER_ALL, ("确认", "提交成功")])
    assert await responses(services, sid) == 3


async def test_household_campaign_needs_a_room(survey_bot):
    services = survey_bot.services
    await new_campaign(services)
    me = await add_resident(services, "HX-YYL-YJ-01", building=None, room=None)
    assert "需要您的楼号房号" in await survey_bot.say(me.openid, "调查")


async def test_quota_per_estate_is_never_exceeded_even_concurrently(demo_services):
    services = demo_services
    sid = await new_campaign(services, quota_per_estate=3, per_household=False)
    people = [await add_resident(services, "HX-YYL-YJ-01") for _ in range(8)]
    elsewhere = await add_resident(services, "HX-YYL-YJ-02")
    answers = {"q1": 5, "q2": 5, "q3": 5, "q4": 5, "q5": 5, "q6": 5, "q7": 1, "q8": None, "q9": None}

    async def vote(person):
        from storage.db import Database
        db = Database(services.settings.database_url)  # each voter on its own engine, as on several workers
        try:
            async with db.transaction() as session:
                survey = await repo.get(session, sid)
                await voting.submit(session, survey, person, answers, 1, services.clock(),
                                    household_key=services.settings.household_secret)
                return "ok"
        except voting.VoteRefused as refused:
            return refused.message
        finally:
            await db.dispose()

    outcomes = await asyncio.gather(*(vote(p) for p in people))
    assert outcomes.count("ok") == 3 and all("满额" in o for o in outcomes if o != "ok")
    assert await vote(elsewhere) == "ok"  # another estate has its own quota
    assert await responses(services, sid) == 4
