"""Figures for any jurisdiction and period, the way 12345 hotlines judge themselves (三率), plus 不出社区.

Definitions (docs/tickets.md has the full text):
- received: tickets filed in the period; accepted = received − rejected (不予受理) − merged duplicates.
- response rate: first 签收 (or a reasoned refusal) within the first level's sign limit, among tickets whose
  response is due (answered, or past the limit).
- resolution rate: tickets resolved (已办结/已关闭 after resolution) among accepted; on-time: resolved before the
  deadline of the level that resolved them.
- satisfaction rate: ratings ≥ 4 among rated tickets.
- medians: hours from filing to first response; days from filing to resolution (calendar time).
- settled at each level: share of resolved tickets resolved at 社区 (不出社区), 街道, 区县.
`compute(facts, now)` is pure; `load_facts` reads them for a set of communities.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import csv_export
from handlers.tickets.rules import CATEGORIES, LEVEL_LABELS
from storage.models import Community, PropertyCompany
from storage.ticket_models import Ticket


@dataclass(frozen=True)
class Fact:
    category: str
    status: str
    created_at: datetime
    first_sign_due_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    resolved_level: str | None
    resolve_due_at: datetime
    rating: int | None
    closed_reason: str | None
    company: str | None = None
    community: str | None = None


@dataclass
class Figures:
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    merged: int = 0
    open: int = 0
    response_due: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    rated: int = 0
    satisfied: int = 0
    median_response_hours: float | None = None
    median_resolve_days: float | None = None
    settled: dict[str, int] = field(default_factory=lambda: {level: 0 for level in ("community", "street",
                                                                                          "district")})

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole * 100, 1) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.responded_in_time, self.response_due)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.resolved, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.resolved_in_time, self.resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def community_share(self) -> float | None:
        """不出社区率: resolved at the community among all resolved."""
        return self._rate(self.settled["community"], self.resolved)

    @property
    def street_share(self) -> float | None:
        """不出街道率: resolved at the community or the street among all resolved."""
        return self._rate(self.settled["community"] + self.settled["street"], self.resolved)

    def as_dict(self) -> dict:
        out = asdict(self)
        for name in ("response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "community_share",
                     "street_share"):
            out[name] = getattr(self, name)
        return out


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def compute(facts: list[Fact], now: datetime) -> Figures:
    f = Figures(received=len(facts))
    response_hours, resolve_days = [], []
    for x in facts:
        if x.status == "rejected":
            f.rejected += 1
        elif x.closed_reason == "merged":
            f.merged += 1
        if x.status in ("received", "escalated", "assigned"):
            f.open += 1
        if x.responded_at is not None or x.first_sign_due_at <= now:
            f.response_due += 1
            if x.responded_at is not None and x.responded_at <= x.first_sign_due_at:
                f.responded_in_time += 1
        if x.responded_at is not None:
            response_hours.append((x.responded_at - x.created_at).total_seconds() / 3600)
        if x.resolved_at is not None and x.closed_reason != "merged":
            f.resolved += 1
            f.resolved_in_time += x.resolved_at <= x.resolve_due_at
            f.settled[x.resolved_level or "community"] += 1
            resolve_days.append((x.resolved_at - x.created_at).total_seconds() / 86400)
        if x.rating is not None:
            f.rated += 1
            f.satisfied += x.rating >= 4
    f.accepted = f.received - f.rejected - f.merged
    f.median_response_hours, f.median_resolve_days = _median(response_hours), _median(resolve_days)
    return f


def breakdown(facts: list[Fact], now: datetime, key: str) -> list[tuple[str, Figures]]:
    """Figures per category (`category`), property-service company (`company`) or community (`community`)."""
    groups: dict[str, list[Fact]] = {}
    for x in facts:
        label = CATEGORIES.get(x.category, x.category) if key == "category" else (getattr(x, key) or "（未登记）")
        groups.setdefault(label, []).append(x)
    rows = [(label, compute(group, now)) for label, group in groups.items()]
    return sorted(rows, key=lambda r: (-r[1].received, r[0]))


def _facts_query(*extra) -> Select:
    return (select(*extra, Ticket.category, Ticket.status, Ticket.created_at, Ticket.first_sign_due_at,
                   Ticket.responded_at, Ticket.resolved_at, Ticket.resolved_level, Ticket.resolve_due_at,
                   Ticket.rating, Ticket.closed_reason, PropertyCompany.name, Community.name)
            .join(Community, Community.id == Ticket.community_id)
            .outerjoin(PropertyCompany, PropertyCompany.id == Ticket.property_company_id))


async def load_facts(session: AsyncSession, communities: Select | list[int] | None, since: datetime,
                     until: datetime) -> list[Fact]:
    """Facts of tickets filed in [since, until) in `communities` (a SELECT of ids, a list, or None = all)."""
    stmt = _facts_query().where(Ticket.created_at >= since, Ticket.created_at < until)
    if communities is not None:
        stmt = stmt.where(Ticket.community_id.in_(communities))
    return [Fact(*row) for row in (await session.execute(stmt)).all()]


async def load_facts_by_community(session: AsyncSession, since: datetime) -> list[tuple[int, Fact]]:
    """(community id, fact) of every ticket filed since `since`, for figures each jurisdiction filters itself."""
    stmt = _facts_query(Ticket.community_id).where(Ticket.created_at >= since)
    return [(row[0], Fact(*row[1:])) for row in (await session.execute(stmt)).all()]


COLUMNS = [("received", "受理量"), ("accepted", "有效件"), ("rejected", "不予受理"), ("merged", "合并重复件"),
           ("open", "在办"), ("response_rate", "响应率%"), ("resolution_rate", "解决率%"), ("on_time_rate", "按期办结率%"),
           ("satisfaction_rate", "满意率%"), ("rated", "评价数"), ("median_response_hours", "响应时长中位数(小时)"),
           ("median_resolve_days", "办结时长中位数(天)"), ("community_share", "不出社区率%"),
           ("street_share", "不出街道率%")]


def to_csv(sections: list[tuple[str, list[tuple[str, Figures]]]]) -> str:
    """One table: 维度, 名称, then every figure; sections such as ("合计", [...]), ("类别", [...])."""
    rows: list[list] = [["维度", "名称"] + [label for _, label in COLUMNS] +
                        [f"{LEVEL_LABELS[l]}办结" for l in ("community", "street", "district")]]
    for dimension, named in sections:
        for name, fig in named:
            values = fig.as_dict()
            rows.append([dimension, name] + ["" if values[k] is None else values[k] for k, _ in COLUMNS] +
                        [fig.settled[l] for l in ("community", "street", "district")])
    return csv_export.to_csv(rows)


def report(facts: list[Fact], now: datetime) -> dict:
    """Everything the console, the API and the command line show."""
    return {"total": compute(facts, now), "by_category": breakdown(facts, now, "category"),
            "by_company": breakdown(facts, now, "company"), "by_community": breakdown(facts, now, "community")}


def report_csv(rep: dict) -> str:
    return to_csv([("合计", [("全部", rep["total"])]), ("类别", rep["by_category"]),
                   ("物业服务企业", rep["by_company"]), ("社区", rep["by_community"])])


def report_json(rep: dict) -> dict:
    return {"total": rep["total"].as_dict(),
            **{key: [{"name": name, **fig.as_dict()} for name, fig in rep[key]]
               for key in ("by_category", "by_company", "by_community")}}
