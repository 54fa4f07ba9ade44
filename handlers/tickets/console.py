"""The tickets' console plugin: nav item, pages, API routes, OpenAPI fragment and two dashboard panels —
open tickets by level and deadline (slot `tickets`), and this month's rates (slot `rates`).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import and_, case, func, literal, select

from handlers.console.authz import can_see_community
from handlers.console.registry import SLOTS
from handlers.tickets import console_api, console_intake, console_media, console_pages, console_partner, stats
from handlers.tickets.calendar import LOCAL_TZ, calendar_for
from handlers.tickets.rules import LEVEL_LABELS, LEVELS, OPEN, RANK
from storage.ticket_models import Ticket

HERE = Path(__file__).parent


AUDIT_LABELS = {
    "ticket.sign": "签收工单", "ticket.assign": "交办工单", "ticket.reply": "答复居民", "ticket.note": "工单备注",
    "ticket.ask": "请居民补充", "ticket.resolve": "办结工单", "ticket.escalate": "升级工单", "ticket.return": "退单",
    "ticket.reject": "不予受理", "ticket.close": "关闭工单", "ticket.link": "合并重复件", "ticket.mediation": "登记调解",
    "ticket.chase": "催办", "ticket.phone": "查看投诉人电话",
    "ticket.public_summary": "设置公开摘要", "ticket.intake": "登记来电来访投诉",
    "ticket.send_back": "退回承办单位", "ticket.share_phone": "向承办单位共享电话",
    "ticket.partner_sign": "承办单位签收", "ticket.partner_done": "承办单位报告办结", "ticket.media": "上传办结凭证",
}


def console(registry) -> None:
    """The console plugin (`plugins=[tickets.console]`)."""
    registry.labels(AUDIT_LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("投诉工单", "/console/tickets", order=15)
    registry.nav("投诉统计", "/console/tickets/stats", order=16)
    registry.nav("登记来电来访", "/console/tickets/intake", order=17)
    registry.page("GET", "/tickets", console_pages.list_page)
    registry.page("GET", "/tickets/stats", console_pages.stats_page)
    registry.page("GET", "/tickets/intake", console_intake.intake_page)
    registry.page("POST", "/tickets/intake", console_intake.intake_post)
    registry.page("POST", "/tickets/bulk", console_pages.bulk_post)
    registry.page("GET", "/tickets/{ticket_id}", console_pages.detail_page)
    registry.page("POST", "/tickets/{ticket_id}/phone", console_pages.phone_page)
    registry.page("POST", "/tickets/{ticket_id}/actions/{action}", console_pages.action_post)
    registry.page("POST", "/tickets/{ticket_id}/public-summary", console_pages.public_summary_post)
    registry.page("GET", "/tickets/{ticket_id}/media/{media_id}", console_media.media_file)
    registry.page("POST", "/tickets/{ticket_id}/media", console_media.media_upload)
    registry.page("POST", "/tickets/{ticket_id}/media/{media_id}/retry", console_media.media_retry)
    registry.api("GET", "/tickets", console_api.api_list)
    registry.api("GET", "/tickets/stats", console_api.api_stats)
    registry.api("POST", "/tickets", console_intake.api_intake)
    registry.api("GET", "/tickets/{ticket_id}", console_api.api_one)
    registry.api("POST", "/tickets/{ticket_id}/actions/{action}", console_api.api_action)
    registry.api("POST", "/tickets/{ticket_id}/public-summary", console_api.api_public_summary)
    # a partner organisation's own console (console_partner.py): only the tickets 交办 to it
    registry.nav("承办工单", "/console/partner/tickets", order=1, partner=True)
    registry.page("GET", "/partner/tickets", console_partner.list_page)
    registry.page("GET", "/partner/tickets/{ticket_id}", console_partner.detail_page)
    registry.page("POST", "/partner/tickets/{ticket_id}/actions/{action}", console_partner.action_post)
    registry.page("POST", "/partner/tickets/{ticket_id}/media", console_partner.media_upload)
    registry.page("GET", "/partner/tickets/{ticket_id}/media/{media_id}", console_partner.media_file)
    registry.api("GET", "/partner/tickets", console_partner.api_list)
    registry.api("GET", "/partner/tickets/{ticket_id}", console_partner.api_one)
    registry.api("POST", "/partner/tickets/{ticket_id}/actions/{action}", console_partner.api_action)
    registry.panel("tickets", "在办投诉：按层级和期限", order=SLOTS["tickets"], cache_seconds=30, wide=True)(
        open_by_deadline)
    registry.panel("rates", "本月投诉三率", order=SLOTS["rates"], cache_seconds=60)(month_rates)


ORG_SECONDS = 30.0  # organisation-wide rows behind the panels, read once per this many seconds (`ConsoleUser.shared`)


async def open_by_deadline(session, user):
    """Counts of open tickets per level: overdue, due within one working day, later, waiting for the resident."""

    async def everything():  # {community id: {(level, deadline class): count}}, for the whole organisation
        counts: dict[int, Counter] = defaultdict(Counter)
        for community_id, level, key, n in (await session.execute(_open_counts(user.now))).all():
            counts[community_id][(level, key)] = n
        return counts

    # a level's own work and the levels below it: a community account has no 街道/区县 rows
    rank = RANK[user.level.value]
    table = {level: {"overdue": 0, "soon": 0, "later": 0, "waiting": 0} for level in LEVELS if RANK[level] <= rank}
    for community_id, counts in (await user.shared(("tickets-open-all",), ORG_SECONDS, everything)).items():
        if can_see_community(user.scope, community_id):
            for (level, key), n in counts.items():
                if level in table:
                    table[level][key] += n
    if not any(sum(row.values()) for row in table.values()):
        return None
    return user.fragment("tickets/panel.html", table=table, levels=LEVEL_LABELS)


def _open_counts(now: datetime):
    """Open tickets per (community, level, deadline class), counted by the database (the organisation's open
    tickets, read and classified row by row in Python, held the event loop for ~100 ms):

    the deadline is the sign-by time while the ticket is unsigned (or its resolve-by time, if earlier), then
    the resolve-by time; the class is `waiting` (for the resident), `overdue`, `soon` (within one working
    day) or `later`."""
    when = Ticket.resolve_due_at.type
    deadline = case((and_(Ticket.signed_at.is_(None), Ticket.sign_due_at < Ticket.resolve_due_at), Ticket.sign_due_at),
                    else_=Ticket.resolve_due_at)
    key = case((Ticket.waiting_since.is_not(None), "waiting"),
               (deadline < literal(now, when), "overdue"),
               (deadline <= literal(calendar_for(None).add(now, 1), when), "soon"), else_="later")
    rows = select(Ticket.community_id, Ticket.level, key.label("k")).where(Ticket.status.in_(OPEN)).subquery()
    return select(rows.c.community_id, rows.c.level, rows.c.k, func.count()).group_by(
        rows.c.community_id, rows.c.level, rows.c.k)


async def month_rates(session, user):
    now = user.now
    today = now.astimezone(LOCAL_TZ).date()
    start = datetime.combine(today.replace(day=1), time(0), LOCAL_TZ)

    async def everything():  # {community id: [facts of this month]}
        grouped: dict[int, list] = defaultdict(list)
        for community_id, fact in await stats.load_facts_by_community(session, start):
            grouped[community_id].append(fact)
        return grouped

    facts = [fact for community_id, facts in (await user.shared(("tickets-month-all", start), ORG_SECONDS,
                                                                   everything)).items()
             if can_see_community(user.scope, community_id) for fact in facts]
    figures = stats.compute(facts, now)
    if not figures.received:
        return None
    return user.fragment("tickets/rates_panel.html", f=figures)
