"""Figures for any jurisdiction and period, the way 12345 hotlines judge themselves (三率), plus 不出社区.

Definitions (docs/tickets.md has the full text):
- received: tickets filed in the period; accepted = received − rejected (不予受理) − merged duplicates.
- response rate: first 签收 (or a reasoned refusal) within the first level's sign limit, among tickets whose
  response is due (answered, or past the limit).
- resolution rate: tickets resolved (已办结/已关闭 after resolution) among accepted; on-time: resolved before the
  deadline of the level that resolved them.
- satisfaction rate: ratings ≥ 4 among rated tickets.
- overdue: accepted tickets not resolved by their deadline (still open past it, or resolved after it).
- medians: hours from filing to first response; days from filing to resolution (calendar time).
- settled at each level: share of resolved tickets resolved at 社区 (不出社区), 街道, 区县.

Each count is defined once in `COUNTS`, twice over: as a test of one ticket's `Fact` (what `compute` adds up) and
as the same condition in SQL (what `sql_counts` gives the database, for `aggregate` here and the scorecards'
queries). A test holds the two equal on both databases. `compute(facts, now)` is pure; `load_facts` reads facts
for a set of communities; `aggregate` counts in SQL, grouped, for reports over many tickets.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Sequence

from sqlalchemy import Float, Select, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import csv_export
from handlers.tickets.rules import CATEGORIES, CHANNELS, LEVEL_LABELS, OPEN
from storage.models import Community, PropertyCompany
from storage.ticket_models import Ticket

LEVEL_NAMES = ("community", "street", "district")


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
    channel: str = "wechat"


# ----- the counts, each defined once: for one ticket (Python) and for the tickets table (SQL) ----------------

def _resolved(x: Fact) -> bool:
    return x.resolved_at is not None and x.closed_reason != "merged"


def _resolved_sql():
    return and_(Ticket.resolved_at.is_not(None), func.coalesce(Ticket.closed_reason, "") != "merged")


def _accepted(x: Fact) -> bool:
    return x.status != "rejected" and x.closed_reason != "merged"


def _accepted_sql():
    return and_(Ticket.status != "rejected", func.coalesce(Ticket.closed_reason, "") != "merged")


def _settled(level: str) -> tuple[Callable[[Fact, datetime], bool], Callable]:
    return (lambda x, now: _resolved(x) and (x.resolved_level or "community") == level,
            lambda now: and_(_resolved_sql(), func.coalesce(Ticket.resolved_level, "community") == level))


@dataclass(frozen=True)
class Count:
    """One count of `Figures`: `test(fact, now)` for one ticket, `sql(now)` the same condition on `tickets`."""

    name: str
    test: Callable[[Fact, datetime], bool]
    sql: Callable[[datetime], object]


COUNTS: tuple[Count, ...] = (
    Count("rejected", lambda x, now: x.status == "rejected", lambda now: Ticket.status == "rejected"),
    Count("merged", lambda x, now: x.status != "rejected" and x.closed_reason == "merged",
          lambda now: and_(Ticket.status != "rejected", Ticket.closed_reason == "merged")),
    Count("open", lambda x, now: x.status in OPEN, lambda now: Ticket.status.in_(sorted(OPEN))),
    Count("response_due", lambda x, now: x.responded_at is not None or x.first_sign_due_at <= now,
          lambda now: or_(Ticket.responded_at.is_not(None), Ticket.first_sign_due_at <= now)),
    Count("responded_in_time", lambda x, now: x.responded_at is not None and x.responded_at <= x.first_sign_due_at,
          lambda now: and_(Ticket.responded_at.is_not(None), Ticket.responded_at <= Ticket.first_sign_due_at)),
    Count("resolved", lambda x, now: _resolved(x), lambda now: _resolved_sql()),
    Count("resolved_in_time", lambda x, now: _resolved(x) and x.resolved_at <= x.resolve_due_at,
          lambda now: and_(_resolved_sql(), Ticket.resolved_at <= Ticket.resolve_due_at)),
    Count("overdue", lambda x, now: _accepted(x) and (
        x.resolve_due_at < x.resolved_at if x.resolved_at is not None else x.resolve_due_at <= now),
        lambda now: and_(_accepted_sql(), case((Ticket.resolved_at.is_not(None),
                                                Ticket.resolve_due_at < Ticket.resolved_at),
                                               else_=Ticket.resolve_due_at <= now))),
    *(Count(f"settled_{level}", *_settled(level)) for level in LEVEL_NAMES),
    Count("rated", lambda x, now: x.rating is not None, lambda now: Ticket.rating.is_not(None)),
    Count("satisfied", lambda x, now: x.rating is not None and x.rating >= 4, lambda now: Ticket.rating >= 4),
)
SUMMED = tuple(c.name for c in COUNTS if not c.name.startswith("settled_"))  # plain Figures fields


def sql_counts(now: datetime) -> dict[str, object]:
    """name → SQL condition of every count (for `SUM(CASE WHEN … THEN 1 ELSE 0 END)` or `COUNT(*) FILTER`)."""
    return {c.name: c.sql(now) for c in COUNTS}


def sql_days(dialect: str, later, earlier):
    """Calendar days between two datetime columns, as a float, on either engine."""
    if dialect == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


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
    settled: dict[str, int] = field(default_factory=lambda: {level: 0 for level in LEVEL_NAMES})
    overdue: int = 0

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

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` to the count `name` of `COUNTS` (settled_<level> goes to `settled`)."""
        if name.startswith("settled_"):
            self.settled[name[8:]] += n
        else:
            setattr(self, name, getattr(self, name) + n)

    def finish(self) -> "Figures":
        self.accepted = self.received - self.rejected - self.merged
        return self

    def as_dict(self) -> dict:
        out = asdict(self)
        for name in ("response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "community_share",
                     "street_share"):
            out[name] = getattr(self, name)
        return out


def add_figures(total: Figures, part: Figures) -> None:
    """Add the counts of `part` to `total` (medians are not additive: they are computed per group)."""
    total.received += part.received
    for name in SUMMED:
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for level, n in part.settled.items():
        total.settled[level] += n
    total.accepted = total.received - total.rejected - total.merged


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def compute(facts: list[Fact], now: datetime) -> Figures:
    f = Figures(received=len(facts))
    response_hours, resolve_days = [], []
    for x in facts:
        for c in COUNTS:
            if c.test(x, now):
                f.count(c.name)
        if x.responded_at is not None:
            response_hours.append((x.responded_at - x.created_at).total_seconds() / 3600)
        if _resolved(x):
            resolve_days.append((x.resolved_at - x.created_at).total_seconds() / 86400)
    f.median_response_hours, f.median_resolve_days = _median(response_hours), _median(resolve_days)
    return f.finish()


def label_of(key: str, value) -> str:
    """How a breakdown names its group: categories and channels by their Chinese label, others as given."""
    if key == "category":
        return CATEGORIES.get(value, value)
    if key == "channel":
        return CHANNELS.get(value, value)
    return value or "（未登记）"


def breakdown(facts: list[Fact], now: datetime, key: str) -> list[tuple[str, Figures]]:
    """Figures per category (`category`), property-service company (`company`), community (`community`) or
    channel (`channel`)."""
    groups: dict[str, list[Fact]] = {}
    for x in facts:
        groups.setdefault(label_of(key, getattr(x, key)), []).append(x)
    rows = [(label, compute(group, now)) for label, group in groups.items()]
    return sorted(rows, key=lambda r: (-r[1].received, r[0]))


def _facts_query(*extra) -> Select:
    return (select(*extra, Ticket.category, Ticket.status, Ticket.created_at, Ticket.first_sign_due_at,
                   Ticket.responded_at, Ticket.resolved_at, Ticket.resolved_level, Ticket.resolve_due_at,
                   Ticket.rating, Ticket.closed_reason, PropertyCompany.name, Community.name, Ticket.channel)
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


# ----- the same figures counted by the database, for many tickets ------------------------------------------

DIMENSIONS = {"community": Ticket.community_id, "category": Ticket.category,
              "company": Ticket.property_company_id, "channel": Ticket.channel}


MANY_COMMUNITIES = 20


async def aggregate(session: AsyncSession, communities: Select | list[int] | None, since: datetime,
                    until: datetime, now: datetime, by: Sequence[str] = ("community", "category", "company",
                                                                          "channel")
                    ) -> dict[str, dict]:
    """The figures of `compute` for tickets filed in [since, until) in `communities`, counted by the database:
    {"total": {None: Figures}, dimension: {value: Figures}} for each dimension of `by` (community id, category
    code, company id or None, channel code).

    Two statements read the month's tickets (one id range, below): the counts of `COUNTS` grouped by all the
    dimensions together (a few thousand rows at most, added up here per dimension), and the durations behind the
    medians with their dimensions (hours to respond, days to resolve: numbers, no datetimes to convert)."""
    where = [Ticket.created_at >= since, Ticket.created_at < until]
    out: dict[str, dict] = {"total": {None: Figures()}, **{d: {} for d in by}}
    # tickets are numbered as they are filed, so the month's lie in one id range: a range scan of the table reads
    # them in order, where the created_at index would look each up (about twice the work on SQLite)
    lo, hi = (await session.execute(select(func.min(Ticket.id), func.max(Ticket.id)).where(*where))).one()
    if lo is None:
        return out
    where.append(Ticket.id.between(lo, hi))
    if communities is not None:
        column = Ticket.community_id
        if isinstance(communities, (list, tuple, set, frozenset)) and len(communities) > MANY_COMMUNITIES:
            column = column + 0  # a street's or district's many communities: keep to the range scan, no index
        where.append(column.in_(communities))
    conditions = sql_counts(now)
    dialect = session.bind.dialect.name
    hours = cast(case((Ticket.responded_at.is_not(None),
                       sql_days(dialect, Ticket.responded_at, Ticket.created_at) * 24), else_=None), Float)
    days = cast(case((_resolved_sql(), sql_days(dialect, Ticket.resolved_at, Ticket.created_at)), else_=None), Float)
    keys = [DIMENSIONS[d] for d in by]
    grouped = select(*keys, func.count(), *[func.count().filter(cond) for cond in conditions.values()]).where(*where)
    if keys:
        grouped = grouped.group_by(*keys)
    width = len(by)
    connection = await session.connection()  # Core results: no ORM row loading for thousands of plain rows
    counts: dict[tuple[str, object], list[int]] = {}
    for row in (await connection.execute(grouped)).all():
        values = [int(v) for v in row[width:]]
        for target in [("total", None), *zip(by, row[:width])]:
            acc = counts.get(target)
            counts[target] = values if acc is None else [a + b for a, b in zip(acc, values)]
    timed = (await connection.execute(select(*keys, hours, days).where(
        *where, or_(Ticket.responded_at.is_not(None), _resolved_sql())))).all()
    columns = list(zip(*timed)) if timed else [()] * (width + 2)
    spans: dict[tuple[str, object], tuple[list, list]] = defaultdict(lambda: ([], []))
    for slot in (0, 1):  # hours, then days: ordered once, so every group's list is already sorted
        values = columns[width + slot]
        order = sorted((i for i, v in enumerate(values) if v is not None), key=values.__getitem__)
        spans[("total", None)][slot].extend(values[i] for i in order)
        for d, dim in enumerate(by):
            keys_of = columns[d]
            for i in order:
                spans[(dim, keys_of[i])][slot].append(values[i])
    for (dim, key), values in counts.items():
        figures = Figures(received=int(values[0]))
        for name, value in zip(conditions, values[1:]):
            figures.count(name, int(value))
        h, d = spans[(dim, key)] if (dim, key) in spans else ([], [])
        figures.median_response_hours, figures.median_resolve_days = _median(h), _median(d)
        out[dim][key] = figures.finish()
    return out


def labelled(groups: dict, key: str, names: dict | None = None) -> list[tuple[str, Figures]]:
    """`aggregate`'s groups of one dimension as `breakdown` gives them: (label, figures), most received first.
    `names` maps ids to names (companies, communities)."""
    rows = [(label_of(key, names.get(value) if names is not None else value), fig) for value, fig in groups.items()]
    return sorted(rows, key=lambda r: (-r[1].received, r[0]))


COLUMNS = [("received", "受理量"), ("accepted", "有效件"), ("rejected", "不予受理"), ("merged", "合并重复件"),
           ("open", "在办"), ("response_rate", "响应率%"), ("resolution_rate", "解决率%"),
           ("on_time_rate", "按期办结率%"),
           ("satisfaction_rate", "满意率%"), ("rated", "评价数"), ("median_response_hours", "响应时长中位数(小时)"),
           ("median_resolve_days", "办结时长中位数(天)"), ("community_share", "不出社区率%"),
           ("street_share", "不出街道率%"), ("overdue", "超期")]


def to_csv(sections: Iterable[tuple[str, list[tuple[str, Figures]]]]) -> str:
    """One table: 维度, 名称, then every figure; sections such as ("合计", [...]), ("类别", [...])."""
    rows: list[list] = [["维度", "名称"] + [label for _, label in COLUMNS] +
                        [f"{LEVEL_LABELS[level]}办结" for level in LEVEL_NAMES]]
    for dimension, named in sections:
        for name, fig in named:
            values = fig.as_dict()
            rows.append([dimension, name] + ["" if values[k] is None else values[k] for k, _ in COLUMNS] +
                        [fig.settled[level] for level in LEVEL_NAMES])
    return csv_export.to_csv(rows)


BREAKDOWNS = (("by_category", "category", "类别"), ("by_channel", "channel", "渠道"),
              ("by_company", "company", "物业服务企业"), ("by_community", "community", "社区"))


def report(facts: list[Fact], now: datetime) -> dict:
    """Everything the console, the API and the command line show."""
    return {"total": compute(facts, now), **{name: breakdown(facts, now, key) for name, key, _ in BREAKDOWNS}}


def report_csv(rep: dict) -> str:
    return to_csv([("合计", [("全部", rep["total"])])] + [(label, rep[name]) for name, _, label in BREAKDOWNS])


def report_json(rep: dict) -> dict:
    return {"total": rep["total"].as_dict(),
            **{name: [{"name": label, **fig.as_dict()} for label, fig in rep[name]] for name, _, _ in BREAKDOWNS}}
