"""Ticket trends for the figures page: how many tickets were filed per day, week or month of the chosen period,
and how many of those are resolved by now (the same definition as the 解决率 of handlers/tickets/stats.py).

`trend(facts, since, until)` is pure: days for periods up to 31 days, weeks (starting on Monday) up to 26
weeks, months beyond. Every bucket of the period appears, empty ones with zeros, so the line shows the gaps.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handlers.tickets.calendar import LOCAL_TZ
from handlers.tickets.stats import Fact


@dataclass(frozen=True)
class Trend:
    unit: str  # 日 / 周 / 月
    labels: list[str]
    received: list[int]
    resolved: list[int]

    @property
    def series(self) -> list[tuple[str, list[tuple[str, float]]]]:
        """(name, points) pairs for `charts.multi_line_chart`."""
        return [("受理", list(zip(self.labels, self.received))),
                ("其中已办结", list(zip(self.labels, self.resolved)))]


def _bucket_start(day: date, unit: str) -> date:
    if unit == "周":
        return day - timedelta(days=day.weekday())
    if unit == "月":
        return day.replace(day=1)
    return day


def _next(start: date, unit: str) -> date:
    if unit == "周":
        return start + timedelta(days=7)
    if unit == "月":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def unit_for(since: date, until: date) -> str:
    days = (until - since).days + 1
    return "日" if days <= 31 else "周" if days <= 26 * 7 else "月"


def _label(start: date, unit: str) -> str:
    if unit == "月":
        return f"{start.year}-{start.month:02d}"
    return f"{start.month:02d}-{start.day:02d}"


def trend(facts: list[Fact], since: date, until: date) -> Trend:
    unit = unit_for(since, until)
    starts: list[date] = []
    cursor = _bucket_start(since, unit)
    while cursor <= until:
        starts.append(cursor)
        cursor = _next(cursor, unit)
    index = {start: i for i, start in enumerate(starts)}
    received, resolved = [0] * len(starts), [0] * len(starts)
    for fact in facts:
        i = index.get(_bucket_start(fact.created_at.astimezone(LOCAL_TZ).date(), unit))
        if i is None:
            continue
        received[i] += 1
        resolved[i] += fact.resolved_at is not None and fact.closed_reason != "merged"
    return Trend(unit, [_label(s, unit) for s in starts], received, resolved)
