"""Paper questionnaires: one per household, keyed like an online household vote, so one voice holds across
channels (a household that voted online is refused with its date, a paper ballot blocks a later online vote);
results split by channel and participation against the estate's total households; the console page and the API
keep to the campaign's estates inside the caller's jurisdiction. On SQLite and PostgreSQL (`db_url`)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.surveys import paper, stats, voting
from storage.models import Estate
from storage.repositories import surveys as repo
from storage.survey_models import SurveyResponse
from tests.console.conftest import csrf_in
from tests.surveys.conftest import NOW, add_resident, new_campaign

ANSWERS = {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 4, "q7": 1, "q8": None, "q9": None}
PAPER = {"q1": 2, "q2": 2, "q3": 2, "q4": 2, "q5": 2, "q6": 2, "q7": 2}


async def estate_id(services, code: str) -> int:
    async with services.db.reading() as session:
        return await session.scalar(select(Estate.id).where(Estate.code == code))


async def enter(services, sid: int, estate: int, building: str, room: str, answers=PAPER, collector="张阿姨"):
    async with services.db.transaction() as session:
        survey = await repo.get(session, sid)
        row = await paper.enter(session, survey, estate_id=estate, building=building, room=room, answers=answers,
                                collector=collector, entered_by="staff:yijing", now=NOW,
                                household_key=services.settings.household_secret)
        return row.id


async def online(services, sid: int, resident) -> str:
    async with services.db.transaction() as session:
        survey = await repo.get(session, sid)
        return (await voting.submit(session, survey, resident, ANSWERS, 1, NOW,
                                    household_key=services.settings.household_secret)).outcome


def test_paper_answers_are_read_from_the_form():
    questions = [{"id": "q1", "kind": "rating", "title": "总体", "labels": ["1", "2", "3", "4", "5"]},
                 {"id": "q2", "kind": "multiple", "title": "改进", "options": ["a", "b", "c"], "required": False},
                 {"id": "q3", "kind": "comment", "title": "意见", "required": False}]
    answers, problems = paper.answers_from_form(questions, {"q_q1": "5", "q_q3": "电梯常坏"}, {"q_q2": ["1", "3"]})
    assert answers == {"q1": 5, "q2": [1, 3], "q3": "电梯常坏"} and problems == {}
    _, problems = paper.answers_from_form(questions, {"q_q1": "9"}, {"q_q2": ["x"]})
    assert set(problems) == {"q_q1", "q_q2"}
    _, problems = paper.answers_from_form(questions, {}, {})
    assert "没有填写" in problems["q_q1"]


async def test_one_voice_per_household_across_wechat_and_paper(demo_services):
    services = demo_services
    sid = await new_campaign(services)
    yj01 = await estate_id(services, "HX-YYL-YJ-01")
    voter = await add_resident(services, "HX-YYL-YJ-01", building="3", room="501")
    assert await online(services, sid, voter) == "new"
    with pytest.raises(voting.VoteRefused, match="已于 2026-11-20 在公众号参与"):
        await enter(services, sid, yj01, "3号楼", "501")  # the same flat, spelt as on paper
    await enter(services, sid, yj01, "3", "502")
    with pytest.raises(voting.VoteRefused, match="已于 2026-11-20 登记过纸质问卷（收集人 张阿姨）"):
        await enter(services, sid, yj01, "3", "502", collector="李四")
    neighbour = await add_resident(services, "HX-YYL-YJ-01", building="3", room="502")
    with pytest.raises(voting.VoteRefused, match="已于 2026-11-20 填写纸质问卷"):
        await online(services, sid, neighbour)
    with pytest.raises(voting.VoteRefused, match="不包括这个小区"):
        await enter(services, sid, await estate_id(services, "HX-MJ-LS-01") or 0, "1", "101")
    with pytest.raises(voting.VoteRefused, match="还没有有效的回答"):
        await enter(services, sid, yj01, "4", "101", answers={"q1": 9})
    async with services.db.reading() as session:
        rows = list(await session.execute(select(SurveyResponse.channel, SurveyResponse.resident_id,
                                                 SurveyResponse.collector).where(SurveyResponse.survey_id == sid)))
        result = await stats.results(session, await repo.get(session, sid))
    assert sorted(tuple(r) for r in rows) == [("paper", None, "张阿姨"), ("wechat", voter.id, None)]
    split = {c["channel"]: (c["respondents"], c["satisfaction"]) for c in result["by_channel"]}
    assert split == {"wechat": (1, 1.0), "paper": (1, 0.0)}
    # the campaign about 物业 WY-JA covers the two estates it serves: 1286 + 764 households in the org data
    assert result["households"] == 1286 + 764 and result["household_respondents"] == 2
    [estate] = [e for e in result["estates"] if e["estate_id"] == yj01]
    assert estate["households"] == 1286 and estate["household_participation"] == round(2 / 1286, 4)


async def test_a_person_counted_campaign_takes_no_paper_forms(demo_services):
    sid = await new_campaign(demo_services, per_household=False)
    with pytest.raises(voting.VoteRefused, match="按人计票"):
        await enter(demo_services, sid, await estate_id(demo_services, "HX-YYL-YJ-01"), "3", "501")


async def test_console_page_and_api_for_paper_ballots(console_world):
    world = console_world
    sid = await new_campaign(world.services, level="street", codes=("HX-YYL",))
    yj01, pj = await estate_id(world.services, "HX-YYL-YJ-01"), await estate_id(world.services, "HX-YYL-PJ-01")
    await online(world.services, sid, await add_resident(world.services, "HX-YYL-YJ-01", building="5", room="301"))
    await world.login("yijing")
    page = await world.client.get(f"/console/surveys/{sid}/paper")
    text = await page.text()
    assert page.status == 200 and "录入纸质问卷" in text and f'value="{yj01}"' in text
    assert pj and "平江社区 ·" not in text and "谊景社区 ·" in text  # the street's other community is outside yijing's jurisdiction
    form = {"_csrf": csrf_in(text), "estate_id": str(yj01), "building": "5", "room": "302", "collector": "张阿姨",
            **{f"q_q{n}": "3" for n in range(1, 7)}, "q_q7": "1"}
    done = await world.client.post(f"/console/surveys/{sid}/paper", data=form, allow_redirects=False)
    assert done.status == 303
    again = await world.client.post(f"/console/surveys/{sid}/paper", data={**form, "room": "301"})
    assert again.status == 409 and "在公众号参与本次调查" in await again.text()
    outside = await world.client.post(f"/console/surveys/{sid}/paper", data={**form, "estate_id": str(pj),
                                                                             "room": "999"})
    assert outside.status == 409 and "您辖区内的小区" in await outside.text()
    missing = await world.client.post(f"/console/surveys/{sid}/paper", data={**form, "q_q1": "", "room": "303"})
    assert missing.status == 400 and "没有填写" in await missing.text()
    api = await world.client.post(f"/api/v1/surveys/{sid}/paper", headers=world.bearer("yijing"), json={
        "estate_id": yj01, "building": "5", "room": "304", "collector": "王五", "answers": PAPER})
    assert api.status == 201 and (await api.json())["channel"] == "paper"
    dup = await world.client.post(f"/api/v1/surveys/{sid}/paper", headers=world.bearer("yijing"), json={
        "estate_id": yj01, "building": "5", "room": "304", "collector": "王五", "answers": PAPER})
    assert dup.status == 409 and "登记过纸质问卷" in (await dup.json())["message"]
    detail = await (await world.client.get(f"/console/surveys/{sid}")).text()
    assert "纸质问卷" in detail and "按全部住户计" in detail
