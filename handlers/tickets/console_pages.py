"""Console pages for tickets: the list with filters, one ticket (timeline, actions, similar open tickets,
mediation records), the action POST, the call-back number (audited), and the figures page with CSV and the
trend of filed and resolved tickets (handlers/tickets/console_trends.py).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from handlers.console.audit import audit
from handlers.console.authz import can_see_community, restrict, visible_communities
from handlers.console.charts import multi_line_chart
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, Page, flash, page_number, render, see_other, staff_names_for
from handlers.console.state import state_of
from handlers.csv_export import csv_response
from handlers.tickets import console_trends, publication, rules, service, stats
from handlers.tickets.calendar import LOCAL_TZ, calendar_for
from handlers.tickets.console_common import actor_of, assignable_staff, detail, names, params_for, summary, ticket_of
from handlers.tickets.rules import CATEGORIES, LEVEL_LABELS, STAFF_STATUS_LABELS
from storage.models import Community, Staff
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

PAGE_SIZE = 30
STATUS_FILTERS = {"open": "在办（待签收/处理中/已升级）", "": "全部", **STAFF_STATUS_LABELS}
VIEWS = {"": "全部工单", "mine": "我的待办", "due": "即将超期/已超期"}
SORT_COLUMNS = {"number": "编号", "category": "类别", "status": "状态", "level": "层级", "community": "社区",
                "due": "办结期限"}
BULK = {"sign": "签收", "assign": "交办"}


def filters(request: web.Request) -> dict:
    q = request.query
    try:
        community = int(q.get("community") or 0) or None
    except ValueError:
        community = None
    sort = q.get("sort") or "-number"
    return {"status": q.get("status", "open") if q.get("status", "open") in STATUS_FILTERS else "open",
            "level": q.get("level") if q.get("level") in rules.LEVELS else None,
            "category": q.get("category") if q.get("category") in CATEGORIES else None,
            "community": community, "overdue": q.get("overdue") == "1", "q": (q.get("q") or "").strip()[:24],
            "view": q.get("view") if q.get("view") in VIEWS else "",
            "sort": sort if sort.lstrip("-") in repo.SORTS else "-number"}


def listing_stmt(request: web.Request, wanted: dict):
    user = current(request)
    mine = None
    if wanted["view"] == "mine":
        mine = (None if user.level.value == "admin" else user.level.value, user.staff.id)
    due = calendar_for(None).add(user.now, 1) if wanted["view"] == "due" else None
    stmt = repo.listing(status=wanted["status"] or None, level=wanted["level"], category=wanted["category"],
                        community_id=wanted["community"], number=wanted["q"] or None,
                        overdue_before=user.now if wanted["overdue"] else None, due_before=due, mine=mine,
                        sort=wanted["sort"])
    return restrict(stmt, user.scope, Ticket.community_id)


def urgency(t: dict, now: datetime, soon: datetime) -> str:
    """The row's colour: `overdue` (red), `soon` (amber, within one working day), or ''."""
    if t["status"] not in rules.OPEN or t["waiting"]:
        return ""
    if t["overdue"]:
        return "overdue"
    due = t["sign_due_at"] if t["status"] != "assigned" and t["sign_due_at"] < t["resolve_due_at"] else \
        t["resolve_due_at"]
    return "soon" if due <= soon else ""


def query_with(wanted: dict, **changes) -> str:
    """The list's query string with the current filters and `changes` (filters stay in the URL)."""
    merged = {**wanted, **changes}
    pairs = [(k, "1" if k == "overdue" else str(v)) for k, v in merged.items()
             if v not in (None, "", False) and not (k == "sort" and v == "-number")]
    if not merged.get("status"):
        pairs.append(("status", ""))
    return urlencode(pairs)


async def community_choices(request: web.Request) -> list[tuple[int, str]]:
    user = current(request)
    stmt = select(Community.id, Community.name).where(Community.id.in_(visible_communities(user.scope)))
    return [tuple(r) for r in (await db(request).execute(stmt.order_by(Community.id))).all()]


async def _my_staff(request: web.Request) -> list[Staff]:
    """Whom a bulk 交办 may name: active staff of the caller's own level and node."""
    user = current(request)
    if user.level.value == "admin":
        return []
    node = {"community": Staff.community_id == user.staff.community_id,
            "street": Staff.street_id == user.staff.street_id,
            "district": Staff.district_id == user.staff.district_id}[user.level.value]
    stmt = select(Staff).where(Staff.level == user.level, node, Staff.active.is_(True)).order_by(Staff.id)
    return list((await db(request).execute(stmt)).scalars())


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    session, user, wanted = db(request), current(request), filters(request)
    stmt = listing_stmt(request, wanted)
    total = (await session.execute(repo.count_of(stmt))).scalar_one()
    number = page_number(request)
    rows = list((await session.execute(stmt.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))).scalars())
    named = await names(session, rows)
    soon = calendar_for(None).add(user.now, 1)
    items = [summary(t, user.now, named) for t in rows]
    for item in items:
        item["urgency"] = urgency(item, user.now, soon)
    page = Page(items, number, PAGE_SIZE, total)
    return render(request, "tickets/list.html", title="投诉工单", page=page, wanted=wanted,
                  statuses=STATUS_FILTERS, levels=LEVEL_LABELS, categories=CATEGORIES, views=VIEWS,
                  sorts=SORT_COLUMNS, query_with=query_with, bulk=BULK, bulk_staff=await _my_staff(request),
                  back=request.path_qs, communities=await community_choices(request))


@require_staff()
async def bulk_post(request: web.Request) -> web.Response:
    """签收 or 交办 the ticked tickets, one by one under the same rules as the ticket page; what could not be done
    is listed with its reason. Returns to the list with its filters."""
    session, user = db(request), current(request)
    fields = await Form.read(request)
    action = fields.get("action")
    back = str(fields.get("back") or "/console/tickets")
    if not back.startswith("/console/tickets"):
        back = "/console/tickets"
    if action not in BULK:
        await flash(request, "请选择批量操作", "error")
        raise see_other(back)
    ids = []
    for raw in fields.many("ids")[:PAGE_SIZE * 4]:
        if str(raw).isdigit() and len(str(raw)) < 10:
            ids.append(int(raw))
    if not ids:
        await flash(request, "请先勾选工单", "error")
        raise see_other(back)
    params = await params_for(session, action, fields.values) if action == "assign" else {}
    if action == "assign" and not (params.get("staff_id") or params.get("partner")):
        await flash(request, "批量交办请选择承办人", "error")
        raise see_other(back)
    done, refused = [], []
    for ticket_id in dict.fromkeys(ids):
        ticket = await repo.get(session, ticket_id, lock=True)
        if ticket is None or not can_see_community(user.scope, ticket.community_id):
            refused.append(f"#{ticket_id}：不在您的辖区内")
            continue
        try:
            async with session.begin_nested():
                await service.perform(session, state_of(request).services, ticket, action, actor_of(request),
                                      user.now, **params)
        except service.TicketError as exc:
            refused.append(f"{ticket.number}：{exc.message}")
            continue
        await audit(session, user, f"ticket.{action}", ticket.number, request, community_id=ticket.community_id)
        done.append(ticket.number)
    said = f"已{BULK[action]} {len(done)} 件" + (f"；{len(refused)} 件未能{BULK[action]}：" + "；".join(refused[:10])
                                              if refused else "。")
    await flash(request, said, "error" if refused and not done else "ok")
    raise see_other(back)


async def _detail_page(request: web.Request, ticket, phone: str | None = None) -> web.Response:
    session, user = db(request), current(request)
    settings = state_of(request).services.settings
    data = await detail(session, ticket, actor_of(request), user.now, settings)
    staff = await assignable_staff(session, ticket) if "assign" in data["allowed_actions"] else []
    next_level = rules.next_level(ticket.level)
    others = [a for a in data["allowed_actions"]  # sharing the phone is a toggle beside the assignee
              if a not in (data["next_step"], "share_phone") and not (a == "escalate" and next_level is None)]
    return render(request, "tickets/detail.html", title=f"工单 {ticket.number}", t=data, phone=phone,
                  staff=staff, others=others, staff_names=await staff_names_for(session, [ticket.public_summary_by]),
                  labels=rules.ACTION_LABELS, next_level=next_level, level_labels=LEVEL_LABELS)


@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    return await _detail_page(request, await ticket_of(request))


@require_staff()
async def phone_page(request: web.Request) -> web.Response:
    """The full call-back number, for the people handling the ticket; every look is audited."""
    ticket, user = await ticket_of(request), current(request)
    if user.level.value not in (ticket.level, "admin"):
        raise web.HTTPForbidden()
    await audit(db(request), user, "ticket.phone", ticket.number, request, community_id=ticket.community_id)
    return await _detail_page(request, ticket, phone=ticket.phone or "（未留电话或已清除）")


@require_staff()
async def public_summary_post(request: web.Request) -> web.Response:
    """Approve (or withdraw, when empty) the ticket's public summary; audited."""
    ticket, user, session = await ticket_of(request), current(request), db(request)
    fields = await Form.read(request, "summary")
    try:
        said = await publication.set_summary(session, ticket, fields.get("summary"), actor_of(request),
                                             user.now)
    except service.TicketError as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        await flash(request, exc.message, "error")
        raise see_other(f"/console/tickets/{ticket.id}") from None
    await audit(session, user, "ticket.public_summary", ticket.number, request, community_id=ticket.community_id)
    await flash(request, said)
    raise see_other(f"/console/tickets/{ticket.id}")


@require_staff()
async def action_post(request: web.Request) -> web.Response:
    ticket, user, session = await ticket_of(request), current(request), db(request)
    action = request.match_info["action"]
    fields = (await Form.read(request)).values
    try:
        params = await params_for(session, action, fields)
        said = await service.perform(session, state_of(request).services, ticket, action, actor_of(request),
                                     user.now, **params)
    except service.TicketError as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        await flash(request, exc.message, "error")
        raise see_other(f"/console/tickets/{ticket.id}") from None
    await audit(session, user, f"ticket.{action}", ticket.number, request, community_id=ticket.community_id)
    await flash(request, said)
    raise see_other(f"/console/tickets/{ticket.id}")


def period(request: web.Request, now: datetime) -> tuple[date, date]:
    """[since, until] local dates from ?since=&until= (default: this month so far)."""
    today = now.astimezone(LOCAL_TZ).date()
    try:
        since = date.fromisoformat(request.query["since"]) if request.query.get("since") else today.replace(day=1)
        until = date.fromisoformat(request.query["until"]) if request.query.get("until") else today
    except ValueError:
        raise web.HTTPBadRequest(reason="日期格式应为 2026-11-01") from None
    if until < since or (until - since).days > 3660:
        raise web.HTTPBadRequest(reason="日期范围有误")
    return since, until


def bounds(since: date, until: date) -> tuple[datetime, datetime]:
    return (datetime.combine(since, time(0), LOCAL_TZ),
            datetime.combine(until + timedelta(days=1), time(0), LOCAL_TZ))


async def report_for(request: web.Request) -> tuple[dict, date, date, int | None]:
    facts, since, until, community = await facts_for(request)
    return stats.report(facts, current(request).now), since, until, community


async def facts_for(request: web.Request) -> tuple[list[stats.Fact], date, date, int | None]:
    user = current(request)
    since, until = period(request, user.now)
    scope = user.scope
    try:
        community = int(request.query.get("community") or 0) or None
        if community:
            scope = scope.narrow(community)
    except (ValueError, PermissionError):
        raise web.HTTPForbidden() from None
    ids = None if scope.is_admin else visible_communities(scope)
    facts = await stats.load_facts(db(request), ids, *bounds(since, until))
    return facts, since, until, community


@require_staff()
async def stats_page(request: web.Request) -> web.StreamResponse:
    facts, since, until, community = await facts_for(request)
    rep = stats.report(facts, current(request).now)
    if request.query.get("format") == "csv":
        return stats_csv(stats.report_csv(rep), since, until)
    trend = console_trends.trend(facts, since, until)
    trend_chart = multi_line_chart(trend.series, title=f"每{trend.unit}受理与办结")
    return render(request, "tickets/stats.html", title="投诉统计", rep=rep, since=since, until=until,
                  community=community, communities=await community_choices(request), levels=LEVEL_LABELS,
                  charts=charts(rep), trend=trend, trend_chart=trend_chart)


def charts(rep: dict) -> dict[str, tuple[list[tuple[str, float]], str]]:
    """Bars per dimension: resolution rate by category, channel and community, satisfaction by company."""
    def rows(key: str, attr: str) -> list[tuple[str, float]]:
        return [(name, getattr(g, attr)) for name, g in rep[key][:15] if getattr(g, attr) is not None]

    return {"by_category": (rows("by_category", "resolution_rate"), "各类别解决率"),
            "by_channel": (rows("by_channel", "resolution_rate"), "各渠道解决率"),
            "by_company": (rows("by_company", "satisfaction_rate"), "各物业服务企业满意率"),
            "by_community": (rows("by_community", "resolution_rate"), "各社区解决率")}


def stats_csv(text: str, since: date, until: date) -> web.Response:
    return csv_response(text, f"tickets-{since.isoformat()}-{until.isoformat()}.csv")
