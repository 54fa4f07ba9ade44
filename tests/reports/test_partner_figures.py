"""Partner organisations' response and resolution times read from the ticket timeline (`partner_times.load`), in
the monthly report and the scorecards, on SQLite and PostgreSQL, with numbers worked out by hand.

Timeline added to the October data set (Tianjin times, all in 谊景社区):
- ticket 5 (谊景花园, 津安 WY-JA): 交办 津安 5 Oct 10:00 (due 12 Oct 09:00); 签收 12:00 (2 h); done 6 Oct 10:00;
  退回 6 Oct 12:00; done again 7 Oct 10:00 (48 h, the one that counts; one send-back);
- ticket 7 (友谊新城, 津安): 交办 5 Oct 10:00, an event from before the code was kept (the ticket's own partner and
  deadline 12 Oct 09:00 fill in); 回复 by 津安 14:00 (4 h); resolved by the community 6 Oct 09:00 (not done by 津安,
  not overdue: taken back before the deadline);
- ticket 9 (谊安里, 海河畔 WY-HH): 交办 海河畔 5 Oct 10:00, due 6 Oct 10:00; 签收 11:00 (1 h); done 8 Oct 10:00
  (72 h, overdue);
- ticket 1: 交办 dept:河西区城管委 5 Oct 10:00, due 12 Oct 09:00; never answered; resolved 8 Oct 09:00 (not overdue);
- ticket 11: 交办 津安 30 Sep: a September handing, not counted for October.
"""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from handlers.console.authz import Scope
from handlers.console.staff_service import create_account
from handlers.reports import render, service
from handlers.reports.xlsx import workbook
from handlers.scorecards import service as scorecards
from handlers.scorecards.config import from_settings
from handlers.scorecards.periods import parse as parse_period
from handlers.scorecards.views import card_json
from handlers.tickets import partner_times
from storage.models import PropertyCompany, StaffLevel
from storage.ticket_models import Ticket, TicketEvent
from tests.reports.conftest import NOW, OCT, local
from tests.support import TEST_PASSWORD

ADMIN = Scope(StaffLevel.admin)
DEPT = "dept:河西区城管委"


async def _timeline(services) -> dict[str, str]:
    async with services.db.transaction() as session:
        for username, code in (("jinan", "WY-JA"), ("haihe", "WY-HH"), ("cgw", DEPT)):
            await create_account(session, username=username, display_name=username, level="community", node=None,
                                 password=TEST_PASSWORD, partner=code)
        companies = dict((await session.execute(select(PropertyCompany.code, PropertyCompany.id))).all())
        ja, hh = f"property:{companies['WY-JA']}", f"property:{companies['WY-HH']}"
        tickets = {int(n[-4:]): t for n, t in (await session.execute(
            select(Ticket.number, Ticket).where(Ticket.number.like("JF2026TEST-%")))).all()}

        def add(n, at, kind, actor="staff:yijing", **data):
            session.add(TicketEvent(ticket_id=tickets[n].id, at=at, kind=kind, actor=actor, actor_label=actor,
                                    level="community", public=False, text="", data=data or None))

        def hand(n, at, partner, due):
            add(n, at, "assign", assignee="承办单位", partner=partner, due=due.isoformat())

        hand(5, local(2026, 10, 5, 10), ja, local(2026, 10, 12, 9))
        add(5, local(2026, 10, 5, 12), "partner_sign", "staff:jinan")
        add(5, local(2026, 10, 6, 10), "partner_done", "staff:jinan")
        add(5, local(2026, 10, 6, 12), "send_back")
        add(5, local(2026, 10, 7, 10), "partner_done", "staff:jinan")
        tickets[7].assignee_partner, tickets[7].assignee_label = ja, "津安物业"
        add(7, local(2026, 10, 5, 10), "assign", assignee="津安物业")  # no code, no deadline kept
        add(7, local(2026, 10, 5, 14), "reply", "staff:jinan")
        add(7, local(2026, 10, 6, 9), "resolve")
        hand(9, local(2026, 10, 5, 10), hh, local(2026, 10, 6, 10))
        add(9, local(2026, 10, 5, 11), "partner_sign", "staff:haihe")
        add(9, local(2026, 10, 8, 10), "partner_done", "staff:haihe")
        hand(1, local(2026, 10, 5, 10), DEPT, local(2026, 10, 12, 9))
        add(1, local(2026, 10, 5, 11), "reply")  # the community's own reply is not the department's response
        add(1, local(2026, 10, 8, 9), "resolve")
        hand(11, local(2026, 9, 30, 23), ja, local(2026, 10, 7, 23))
        add(11, local(2026, 10, 1, 8), "partner_sign", "staff:jinan")
    return {"ja": ja, "hh": hh}


async def test_the_monthly_report_shows_each_partner_organisation(services):
    codes = await _timeline(services)
    async with services.db.transaction() as session:
        report = await service.report_for(session, ADMIN, "HX-YYL-YJ", OCT, NOW)
        names = await partner_times.names(session, codes.values())
    rows = [(kind, name, f.as_dict()) for kind, name, f in report.by_partner]
    assert rows == [
        ("物业服务企业", names[codes["ja"]][1], {
            "handed": 2, "signed": 2, "done": 1, "overdue": 0, "sent_back": 1, "median_response_hours": 3.0,
            "p90_response_hours": 4.0, "median_resolution_hours": 48.0, "p90_resolution_hours": 48.0,
            "on_time_rate": 100.0}),
        ("物业服务企业", names[codes["hh"]][1], {
            "handed": 1, "signed": 1, "done": 1, "overdue": 1, "sent_back": 0, "median_response_hours": 1.0,
            "p90_response_hours": 1.0, "median_resolution_hours": 72.0, "p90_resolution_hours": 72.0,
            "on_time_rate": 0.0}),
        ("职能部门", "河西区城管委", {
            "handed": 1, "signed": 0, "done": 0, "overdue": 0, "sent_back": 0, "median_response_hours": None,
            "p90_response_hours": None, "median_resolution_hours": None, "p90_resolution_hours": None,
            "on_time_rate": 100.0}),
    ]
    assert service.to_json(report)["tickets"]["by_partner"][0]["handed"] == 2
    # the printed report and the workbook show the same table
    html = render.print_html(report, generated_by="test")
    assert "承办单位办理情况" in html and "河西区城管委" in html and "48.0" in html
    book = openpyxl.load_workbook(io.BytesIO(workbook(report)))
    rows = list(book["承办单位"].iter_rows(min_row=2, values_only=True))
    assert rows[0][2:] == (2, 2, 3.0, 4.0, 1, 48.0, 48.0, 0, 1) and rows[2][:2] == ("职能部门", "河西区城管委")
    # another community's report has none of them
    async with services.db.transaction() as session:
        other = await service.report_for(session, ADMIN, "HX-MJ-LS", OCT, NOW)
    assert other.by_partner == []


async def test_the_scorecards_show_the_companys_own_timeliness(services):
    codes = await _timeline(services)
    config = from_settings(services.settings)
    async with services.db.transaction() as session:
        board = await scorecards.build(session, "property", parse_period(OCT), None, config, NOW)
        one = await scorecards.build(session, "property", parse_period(OCT), None, config, NOW,
                                     subject_ids=[int(codes["hh"].split(":")[1])])
    ja = board.card(int(codes["ja"].split(":")[1]))
    hh = board.card(int(codes["hh"].split(":")[1]))
    assert (ja.partner.handed, ja.partner.done, ja.partner.sent_back, ja.partner.median_resolution_hours) == (
        2, 1, 1, 48.0)
    assert (hh.partner.handed, hh.partner.overdue, hh.partner.p90_response_hours) == (1, 1, 1.0)
    assert card_json(hh)["partner_handling"]["median_resolution_hours"] == 72.0
    [card] = one.cards
    assert card.partner.as_dict() == hh.partner.as_dict()
    # September: only ticket 11's handing
    async with services.db.transaction() as session:
        september = await scorecards.build(session, "property", parse_period("2026-09"), None, config, NOW)
    sep = september.card(int(codes["ja"].split(":")[1]))
    assert sep is None or (sep.partner.handed, sep.partner.signed) == (1, 1)
