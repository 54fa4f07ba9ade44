"""The monthly job (run by the deployment's one scheduler): on the 1st of each month, at 06:30 Tianjin time, build
last month's report of every street and district, record it (`report_issues`, unique per place and month: a
late, repeated or concurrent run builds nothing twice), and tell the heads — a console notice (the dashboard's
「月度报告」 panel and the reports page list it) and, for staff of that street or district who linked WeChat, a push
with the link.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from bot.context import Services
from bot.delivery import Content, Scope, create_broadcast
from bot.jobs import Job
from handlers.reports import build, scope
from storage.models import District, Resident, Staff, StaffLevel, Street
from storage.report_models import ReportIssue

log = logging.getLogger("linli.reports")
LEVELS = (("street", Street, StaffLevel.street), ("district", District, StaffLevel.district))


async def monthly(services: Services, now: datetime) -> int:
    """Build the previous month's street and district reports not built yet; returns how many were built."""
    period = scope.previous_month(now)
    built = 0
    for level, model, staff_level in LEVELS:
        async with services.db.reading() as session:
            nodes = list((await session.execute(select(model.id).order_by(model.id))).scalars())
        for node in nodes:
            try:
                built += await _one(services, level, node, staff_level, period, now)
            except Exception:  # one place's failure must not stop the others; the next run retries it
                log.exception("monthly report of %s %s failed", level, node)
    if built:
        log.info("reports: built %d monthly reports for %s", built, period.key)
    return built


async def _one(services: Services, level: str, node: int, staff_level: StaffLevel, period, now: datetime) -> int:
    async with services.db.transaction() as session:
        done = await session.scalar(select(ReportIssue.id).where(
            ReportIssue.level == level, ReportIssue.node_id == node, ReportIssue.month == period.key))
        if done is not None:
            return 0
        place = await scope.of_node(session, level, node)
        if place is None or not place.communities:
            return 0
        report = await build.build(session, place, period, now)
        issue = ReportIssue(level=level, node_id=node, code=place.code, name=place.name, month=period.key,
                            headline=build.summary(report), built_at=now, pushed=0)
        session.add(issue)
        await session.flush()
        column = Staff.street_id if level == "street" else Staff.district_id
        readers = list((await session.execute(
            select(Resident.id).join(Staff, Staff.openid == Resident.openid)
            .where(Staff.level == staff_level, column == node, Staff.active.is_(True)))).scalars())
        if readers:
            link = f"{services.settings.base_url}/console/reports/view?scope={place.code}&month={period.key}"
            h = issue.headline
            rate = "—" if h.get("resolution_rate") is None else f"{h['resolution_rate']:.1f}%"
            text = (f"{place.name}{period.label}工作月报已生成：受理投诉 {h.get('received', 0)} 件，解决率 {rate}，"
                    f"超期 {h.get('overdue', 0)} 件。请在工作台查看。")
            await create_broadcast(session, category="notice", scope=Scope.of_residents(sorted(set(readers))),
                                   content=Content(text=text, title="月度报告", summary=text[:60], link=link),
                                   created_by="system:reports", source=f"report:{level}:{node}:{period.key}",
                                   now=now)
            issue.pushed = len(set(readers))
        return 1


def jobs() -> list[Job]:
    return [Job("reports.monthly", monthly, cron={"day": 1, "hour": 6, "minute": 30})]
