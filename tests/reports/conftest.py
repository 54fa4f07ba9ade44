"""Monthly-report fixtures: services on a migrated database with the demo organisation, the console tests' second
district, the scorecards' known October 2026 data set and the report's own additions (`extra`): ticket channels,
joint meetings, bound residents, policy questions and inquiries. Every figure can be worked out by hand."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.app import build_services
from bot.localtime import LOCAL_TZ
from storage.models import Community, Resident
from storage.notice_models import Meeting
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.policy_qa_models import Inquiry, KbGap
from storage.repositories import policy_qa as qa_repo
from storage.repositories.org import load_demo
from storage.ticket_models import Ticket
from tests.scorecards import dataset
from tests.support import BASE, fixed_clock

NOW = dataset.NOW  # 2026-11-26 10:00 in Tianjin
OCT = "2026-10"


def local(y, m, d, h=9) -> datetime:
    return datetime(y, m, d, h, tzinfo=LOCAL_TZ)


async def extra(session) -> None:
    """What the report adds to the scorecards' data set (see the comments)."""
    # channels: ticket 2 came by phone, ticket 8 from the 12345 hotline, the rest through WeChat
    for n, channel in ((2, "phone"), (8, "hotline")):
        await session.execute(update(Ticket).where(Ticket.number == f"JF2026TEST-{n:04d}").values(channel=channel))
    ids = dict((await session.execute(select(Community.code, Community.id))).all())
    yj, pj, ls = ids["HX-YYL-YJ"], ids["HX-YYL-PJ"], ids["HX-MJ-LS"]
    # meetings: YJ held one in October with the minutes published, PJ one not published; YJ one in September
    for cid, held, published in ((yj, date(2026, 10, 12), local(2026, 10, 14)), (pj, date(2026, 10, 20), None),
                                 (yj, date(2026, 9, 15), local(2026, 9, 16))):
        session.add(Meeting(community_id=cid, held_on=held, chair="主任", state="published" if published else "closed",
                            author="staff:test", created_at=local(2026, held.month, held.day),
                            published_at=published, reminders_sent=0))
    # residents: YJ 3 bound in September and 2 more in October (5 by the end of October); LS 1 in October;
    # one who followed but never bound does not count
    for n, (cid, bound) in enumerate([(yj, local(2026, 9, 3))] * 3 + [(yj, local(2026, 10, 3))] * 2 +
                                     [(ls, local(2026, 10, 9)), (None, None)]):
        session.add(Resident(openid=f"o_report_{n}", community_id=cid, bound_at=bound,
                             followed_at=local(2026, 9, 1)))
    # policy questions in October: YJ 5 answered by the fees entry, 3 by the meeting entry, 2 not answered;
    # PJ 1 ambiguous; September: YJ 4 answered
    for month, cid, outcome, entry, title, times in (
            (OCT, yj, "answer", "property-fee-standard", "物业费标准", 5),
            (OCT, yj, "answer", "joint-meeting-frequency", "联席会议多久开一次", 3),
            (OCT, yj, "none", "", "", 2), (OCT, pj, "ambiguous", "", "", 1),
            ("2026-09", yj, "answer", "property-fee-standard", "物业费标准", 4)):
        for _ in range(times):
            await qa_repo.count_question(session, month, cid, outcome, entry, title)
    session.add(KbGap(question_key="楼顶能养鸽子吗", example="楼顶能养鸽子吗", outcome="none", count=2,
                      community_id=yj, first_asked=local(2026, 10, 2), last_asked=local(2026, 10, 22)))
    # 转人工: YJ two in October (one answered), one in September
    for n, (created, answered) in enumerate([(local(2026, 10, 5), local(2026, 10, 6)), (local(2026, 10, 25), None),
                                             (local(2026, 9, 5), local(2026, 9, 6))]):
        session.add(Inquiry(resident_ref=f"inq{n:029d}", community_id=yj, question="请问物业费怎么交",
                            status="answered" if answered else "open", created_at=created, answered_at=answered))
    await session.flush()


@pytest.fixture
async def services(db_url):
    from tests.console.conftest import EXTRA_ORG

    svc = build_services(BASE.with_(database_url=db_url), clock=fixed_clock(NOW), load_knowledge=False)
    async with svc.db.transaction() as session:
        await load_demo(session)
        await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await dataset.load(session)
        await extra(session)
    yield svc
    await svc.db.dispose()


__all__ = ["NOW", "OCT", "extra", "local", "timedelta", "timezone"]
