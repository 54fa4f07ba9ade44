"""Phone intake and paper ballots in real headless Chromium (as tests/console/test_browser_flows.py): the 谊景社区
worker on a 375-px phone records a complaint received by phone, then enters a paper questionnaire and is refused
one for a household that voted in WeChat; each page is saved as a screenshot at 375 px and 1280 px into
`$LINLI_TEST_ARTIFACTS/flows/` and may not be wider than the phone. SQLite only; skipped without Chromium."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from handlers.surveys import voting
from storage.models import Estate
from storage.repositories import surveys as survey_repo
from tests.console.conftest import NOW
from tests.console.test_browser_flows import PHONE, Browser, _run, _world, pytestmark  # noqa: F401
from tests.surveys.conftest import add_resident, new_campaign

VOTE = {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 4, "q7": 1, "q8": [1, 3], "q9": None}


async def test_phone_intake_and_paper_ballots_in_the_browser(aiohttp_client, sqlite_url):
    world, base = await _world(aiohttp_client, sqlite_url)
    async with world.services.db.reading() as session:
        estate = await session.scalar(select(Estate.id).where(Estate.code == "HX-YYL-YJ-01"))
    sid = await new_campaign(world.services, codes=("HX-YYL-YJ",))
    voter = await add_resident(world.services, "HX-YYL-YJ-01", building="6", room="101")
    async with world.services.db.transaction() as session:
        survey = await survey_repo.get(session, sid)
        await voting.submit(session, survey, voter, VOTE, survey.questions_version, NOW,
                            household_key=world.services.settings.household_secret)

    def flow(worker: Browser):
        page = worker.go("/console/tickets/intake")
        assert "登记来电来访投诉" in page
        worker.choose("channel", "phone")
        worker.fill("caller_name", "王阿姨")
        worker.fill("phone", "13812345678")
        worker.choose("estate_id", str(estate))
        worker.fill("building", "3号楼")
        worker.choose("category", "repair")
        worker.fill("description", "3号楼2单元楼道灯坏了一周，老人晚上上下楼看不见")
        worker.shot("intake-form")
        ticket = worker.submit("#intake-form button[type=submit]")
        assert "已登记投诉" in ticket and "电话" in ticket and "138****5678" in ticket and "13812345678" not in ticket
        assert "王阿姨" in ticket and "关联投诉" in ticket
        worker.shot("intake-ticket")

        form = worker.go(f"/console/surveys/{sid}/paper")
        assert "录入纸质问卷" in form

        def fill_ballot(room: str):
            worker.choose("estate_id", str(estate))
            worker.fill("building", "6")
            worker.fill("room", room)
            worker.fill("collector", "张阿姨")
            worker.driver.execute_script("""
                for (const q of ['q_q1','q_q2','q_q3','q_q4','q_q5','q_q6']) {
                    document.querySelector(`input[name=${q}][value="2"]`).checked = true; }
                document.querySelector('input[name=q_q7][value="2"]').checked = true;""")

        fill_ballot("102")
        worker.shot("paper-form")
        done = worker.submit("#paper-form button[type=submit]")
        assert "已录入 6-102 的纸质问卷" in done
        fill_ballot("101")  # this household voted in WeChat
        refused = worker.submit("#paper-form button[type=submit]")
        assert "已于 2026-11-20 在公众号参与本次调查" in refused, refused
        worker.shot("paper-refused")
        results = worker.go(f"/console/surveys/{sid}")
        assert "纸质问卷" in results and "公众号" in results and "按全部住户计" in results
        worker.shot("paper-results")
        worker.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), prefix="intake")
