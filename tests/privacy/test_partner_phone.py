"""The resident's phone shared with a partner organisation (issue 18) goes with the resident: after erasure the
ticket's sharing is cleared and the partner reads no phone at all — not in its console page, its API or 「待办」."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.app import build_services
from handlers.privacy.erasure import erase_resident
from handlers.staff.commands import partner_todo
from handlers.tickets import service
from storage.repositories.org import load_demo
from tests.support import BASE, fixed_clock
from tests.tickets.conftest import bind, handed_to_partner, partner_account, staff_actor

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
PHONE = "13900001111"


async def test_an_erased_residents_phone_is_no_longer_shared_with_the_partner(db_url):
    services = build_services(BASE.with_(database_url=db_url, wechat_api_base="http://127.0.0.1:9"),
                              clock=fixed_clock(NOW), load_knowledge=False)
    db = services.db
    try:
        async with db.transaction() as session:
            await load_demo(session)
        resident = await bind(services, "o_victim")  # 谊景花园, served by 津安物业 (WY-JA)
        async with db.transaction() as session:
            jinan = await partner_account(session, "jinan", "WY-JA")
            resident = await session.merge(resident)
            ticket = await handed_to_partner(session, services, resident, "property", "楼道灯坏了", NOW, phone=PHONE)
            actor = await staff_actor(session, "yijing")
            await service.perform(session, services, ticket, "share_phone", actor, NOW, share=True)
            assert service.partner_phone(ticket) == PHONE and PHONE in await partner_todo(session, jinan)
            await erase_resident(session, resident, NOW)
            assert ticket.phone is None and ticket.phone_shared_at is None
            assert service.partner_phone(ticket) is None
            assert PHONE not in await partner_todo(session, jinan) and "139" not in await partner_todo(session, jinan)
            refused = None
            try:
                await service.perform(session, services, ticket, "share_phone", actor, NOW, share=True)
            except service.TicketError as exc:
                refused = exc.message
            assert refused and "删除个人信息" in refused
    finally:
        await db.dispose()
