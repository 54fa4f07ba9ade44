"""The monthly report for a request, the command line or the job: find the place, check who may open it, build
it, and render it as JSON, PDF or XLSX. Handlers stay thin; refusals are `DomainError`s with a Chinese message.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from handlers.console.authz import Scope, can_see_community
from handlers.reports import build as builder
from handlers.reports import pdf, render, scope
from handlers.reports.figures import Report
from handlers.scorecards.periods import Period
from storage.models import Community, District, Street
from storage.report_models import ReportIssue


async def place_for(session: AsyncSession, who: Scope, code: str | None) -> scope.Place:
    """The place named by `code` (the staff member's own node when empty), if they may open its report; 404
    otherwise (an unknown code and one outside the jurisdiction look the same)."""
    if not (code or "").strip():
        home = scope.home_code_level(who)
        found = await scope.of_node(session, *home) if home and home[1] else None
        if found is None:  # admins (and accounts without a node): the first district
            first = await session.scalar(select(District.code).order_by(District.id).limit(1))
            found = await scope.find(session, first) if first else None
    else:
        found = await scope.find(session, code)
    if found is None or not scope.allowed(who, found):
        raise NotFound("没有找到该范围，或不在您的辖区内")
    return found


async def report_for(session: AsyncSession, who: Scope, code: str | None, month: str | None,
                     now: datetime) -> Report:
    period = scope.parse_month(month) if (month or "").strip() else scope.previous_month(now)
    place = await place_for(session, who, code)
    return await builder.build(session, place, period, now)


async def choices(session: AsyncSession, who: Scope) -> list[tuple[str, str]]:
    """(code, label) of every place whose report the staff member may open, the tree indented."""
    rows = (await session.execute(
        select(District.code, District.name, Street.code, Street.name, Community.id, Community.code, Community.name)
        .join(Street, Street.district_id == District.id).join(Community, Community.street_id == Street.id)
        .order_by(District.id, Street.id, Community.id))).all()
    by_district: dict[str, list] = {}
    by_street: dict[str, list] = {}
    names: dict[str, str] = {}
    for d_code, d_name, s_code, s_name, c_id, c_code, c_name in rows:
        by_district.setdefault(d_code, []).append(c_id)
        by_street.setdefault(s_code, []).append(c_id)
        names[d_code], names[s_code], names[c_code] = d_name, "　" + s_name, "　　" + c_name
    out = []
    seen = set()
    for d_code, d_name, s_code, s_name, c_id, c_code, c_name in rows:
        for code, ids in ((d_code, by_district[d_code]), (s_code, by_street[s_code]), (c_code, [c_id])):
            if code not in seen and all(can_see_community(who, c) for c in ids):
                seen.add(code)
                out.append((code, names[code]))
    return out


def to_json(report: Report) -> dict:
    def tickets(rows):
        return [{"name": name, **fig.as_dict()} for name, fig in rows]

    return {
        "scope": {"level": report.place.level, "code": report.place.code, "name": report.place.name,
                  "communities": len(report.place.communities)},
        "month": report.period.key, "previous_month": report.period.shifted(-1).key, "title": report.title,
        "computed_at": report.now,
        "headline": [m.as_dict() for m in report.headline],
        "tickets": {"total": report.tickets.as_dict(), "previous": report.tickets_before.as_dict(),
                    "by_channel": tickets(report.by_channel), "by_category": tickets(report.by_category),
                    "by_company": tickets(report.by_company),
                    "by_partner": [{"kind": k, "name": n, **f.as_dict()} for k, n, f in report.by_partner],
                    "trend": [{"month": m, **f.as_dict()} for m, f in report.trend]},
        "disclosures": {"total": report.disclosure.as_dict(),
                        "by_category": [{"category": n, **t.as_dict()} for n, t in report.disclosure_by_category]},
        "surveys": [{"id": c.id, "title": c.title, "subject": c.subject, "respondents": c.respondents,
                     "eligible": c.eligible, "households": c.households, "participation": c.participation,
                     "coverage": c.coverage, **c.scores.as_dict()} for c in report.campaigns],
        "satisfaction_by_subject": [{"kind": k, "name": n, "respondents": r, **s.as_dict()}
                                    for k, n, s, r in report.satisfaction_by_subject],
        "questions": {**{k: v for k, v in report.questions.items() if k not in ("topics", "gaps")},
                      "topics": [{"title": t, "count": n} for t, n in report.questions["topics"]],
                      "unanswered_examples": [{"question": t, "count": n} for t, n in report.questions["gaps"]]},
        "communities": [{"id": c.id, "name": c.name, "tickets": c.tickets.as_dict(), "meetings": c.meetings,
                         "minutes": c.minutes, "disclosure": c.disclosure.as_dict(), "households": c.households,
                         "bound": c.bound, "respondents": c.respondents} for c in report.communities],
        "rankings": [{"key": k.key, "label": k.label, "unit": k.unit,
                      "rows": [{"rank": r, "community": n, "value": v} for r, n, v in k.rows]}
                     for k in report.rankings],
    }


async def to_pdf(report: Report, settings, generated_by: str) -> bytes:
    html = render.print_html(report, generated_by=generated_by)
    return await pdf.html_to_pdf(html, chromium=settings.report_chromium, timeout=settings.report_pdf_timeout)


def filename(report: Report, suffix: str) -> str:
    return f"report-{report.place.code}-{report.period.key}.{suffix}"


async def issues(session: AsyncSession, who: Scope, limit: int = 50) -> list[ReportIssue]:
    """The reports the monthly job built that the staff member may open (newest first)."""
    rows = list(await session.scalars(select(ReportIssue).order_by(ReportIssue.month.desc(), ReportIssue.id)
                                      .limit(500)))
    if who.is_admin:
        return rows[:limit]
    members: dict[tuple[str, int], list[int]] = {}
    for cid, sid, did in (await session.execute(
            select(Community.id, Community.street_id, Street.district_id)
            .join(Street, Street.id == Community.street_id))).all():
        for key in (("community", cid), ("street", sid), ("district", did)):
            members.setdefault(key, []).append(cid)
    out = [row for row in rows if members.get((row.level, row.node_id))
           and all(can_see_community(who, c) for c in members[(row.level, row.node_id)])]
    return out[:limit]


def month_of(period: Period) -> str:
    return period.key
