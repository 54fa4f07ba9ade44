"""A partner organisation works a ticket in real headless Chromium on a phone (390 × 844): 津安物业's account logs in,
lands on 承办工单, opens the ticket 谊景社区 handed to it (the resident's phone masked), 签收, answers the resident
(回复) and reports it done (报告办结); the community worker, also on a phone, sees the report and confirms (办结);
the resident is then asked to rate. Screenshots go to `$LINLI_TEST_ARTIFACTS/flows/` like the other browser
flows, and no page may be wider than the phone. SQLite only; skipped where Chromium is not installed."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.delivery_models import Broadcast
from storage.models import Estate, Resident
from storage.ticket_models import Ticket
from tests.console.conftest import NOW
from tests.console.test_browser_flows import Browser, _run, _world, nfkc, pytestmark  # noqa: F401
from tests.tickets.conftest import handed_to_partner, partner_account

PHONE_WIDTH, PHONE_HEIGHT = 390, 844
COMPLAINT = nfkc("2号楼地下车库入口的灯坏了，晚上很黑")
REPLY = nfkc("物业电工今天下午三点前到场更换灯具。")
DONE = nfkc("已更换车库入口灯具两盏，现场照明恢复。")
CONFIRMED = nfkc("社区已现场核实，车库入口照明恢复正常。")


class Phone(Browser):
    phone = PHONE_WIDTH

    def _viewport(self, width: int, height: int = PHONE_HEIGHT) -> None:
        super()._viewport(width, height)


async def _handed_ticket(world) -> tuple[int, str]:
    """津安物业's account, and a complaint of a 谊景花园 resident that 谊景社区 signed and 交办 to its property company."""
    async with world.services.db.transaction() as session:
        await partner_account(session, "jinan", "WY-JA", "津安物业客服")
        estate = (await session.execute(select(Estate).where(Estate.code == "HX-YYL-YJ-01"))).scalar_one()
        resident = await session.get(Resident, world.resident["YJ"])
        resident.estate_id = estate.id
        ticket = await handed_to_partner(session, world.services, resident, "property", COMPLAINT, NOW,
                                         phone="13812345678", sign=True)
        return ticket.id, ticket.number


async def test_a_partner_works_a_ticket_on_a_phone_and_the_community_confirms(aiohttp_client, sqlite_url):
    world, base = await _world(aiohttp_client, sqlite_url)
    ticket_id, number = await _handed_ticket(world)

    def flow(partner: Phone, community: Phone):
        listing = partner.go("/console/")  # a partner's home is its tickets
        assert partner.driver.current_url.endswith("/console/partner/tickets")
        assert number in listing and "谊景社区" in listing and "投诉工单" not in partner.driver.page_source
        partner.shot("list")
        detail = partner.click_link(number)
        assert COMPLAINT in detail and "138****5678" in detail and "13812345678" not in detail
        partner.shot("detail")
        signed = partner.submit("form[action$='/actions/partner_sign'] button")
        assert "已签收" in signed and "承办单位签收" in signed
        partner.fill("text", REPLY, "form[action$='/actions/reply']")
        replied = partner.submit("form[action$='/actions/reply'] button")
        assert "已答复居民" in replied and REPLY in replied
        partner.fill("text", DONE, "form[action$='/actions/partner_done']")
        reported = partner.submit("form[action$='/actions/partner_done'] button")
        assert "已报告办结" in reported and DONE in reported
        assert not partner.driver.find_elements("css selector", "form[action$='/actions/partner_done']")
        partner.shot("reported")

        page = community.go(f"/console/tickets/{ticket_id}")
        assert "津安物业" in page and "已报告办结" in page and DONE in page and REPLY in page
        community.shot("to-confirm")
        community.fill("text", CONFIRMED, "#next-step form[action$='/actions/resolve']")
        resolved = community.submit("#next-step form[action$='/actions/resolve'] button")
        assert "已办结" in resolved and CONFIRMED in resolved
        community.shot("confirmed")
        after = partner.go(f"/console/partner/tickets/{ticket_id}")
        assert "已办结" in after and not partner.driver.find_elements("css selector", "form[data-action]")
        partner.shot("after")
        for browser in (partner, community):
            browser.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("jinan", PHONE_WIDTH), ("yijing", PHONE_WIDTH), prefix="partner",
                            kind=Phone)
    async with world.services.db.transaction() as session:
        ticket = await session.get(Ticket, ticket_id)
        asked = list((await session.execute(select(Broadcast).where(Broadcast.source == f"ticket:{ticket_id}")
                                             .order_by(Broadcast.id))).scalars())
    assert ticket.status == "resolved" and ticket.resolution == CONFIRMED
    assert "请评价" in asked[-1].text and CONFIRMED in asked[-1].text  # the resident's rating request
    assert any(REPLY in b.text and b.text.startswith("谊景社区") for b in asked)
