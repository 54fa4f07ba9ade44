"""Disclosure diligence, as pure functions: which disclosures an estate owes in a period, and whether each was
published on time, late, or not at all.

A rule (estate, notice category, frequency, due day, effective from) cuts time into windows — calendar months,
quarters or years (local dates). Each window owes one disclosure of that category reaching the estate, due by the
end of its `due_day`-th day. An instance belongs to the period that contains its due day, and is
- **on time** when a live notice of the category reaching the estate was first published inside the window on or
  before the due day's end;
- **late** when the first such notice came after that (still inside the window);
- **missing** when none came in the window and the due day is over;
- **pending** (not counted) while the due day has not ended and nothing is published yet.
Instances due before the rule's `effective_from` are not owed.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from handlers.scorecards.periods import Period, _add_months, at_midnight

FREQUENCIES = {"monthly": "每月", "quarterly": "每季度", "yearly": "每年"}
WINDOW_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
MAX_DUE_DAY = {"monthly": 28, "quarterly": 90, "yearly": 365}
STATUS_LABELS = {"on_time": "按时", "late": "逾期", "missing": "未公示", "pending": "未到期"}


@dataclass(frozen=True)
class Rule:
    id: int
    estate_id: int
    category: str
    frequency: str
    due_day: int
    effective_from: date


@dataclass(frozen=True)
class Window:
    """One window of a rule shape (frequency, due day): its dates and, once, the moments they stand for."""

    start: date
    end: date  # exclusive
    due_day: date  # the last day to publish on time
    lo: datetime  # local midnight starting the window
    hi: datetime  # local midnight ending it
    deadline: datetime  # the end of the due day


@dataclass(frozen=True)
class Instance:
    rule: Rule
    window: Window

    @property
    def window_start(self) -> date:
        return self.window.start

    @property
    def window_end(self) -> date:
        return self.window.end

    @property
    def due_day(self) -> date:
        return self.window.due_day

    @property
    def deadline(self) -> datetime:
        """The end of the due day (local midnight after it)."""
        return self.window.deadline


@dataclass(frozen=True)
class Outcome:
    instance: Instance
    status: str  # on_time / late / missing / pending
    notice_id: int | None = None
    published_at: datetime | None = None


def problem(frequency: str, due_day: int) -> str | None:
    """Why a rule cannot be stored (Chinese), or None."""
    if frequency not in FREQUENCIES:
        return "公示频次应为 monthly（每月）、quarterly（每季度）或 yearly（每年）"
    if not 1 <= due_day <= MAX_DUE_DAY[frequency]:
        return f"{FREQUENCIES[frequency]}公示的截止日应为第 1 到 {MAX_DUE_DAY[frequency]} 天"
    return None


def windows(frequency: str, due_day: int, period: Period) -> list[Window]:
    """The windows of a rule shape whose due day falls in `period`."""
    months = WINDOW_MONTHS[frequency]
    # windows are aligned on January: months 1, 4, 7, 10 for quarters; the year for yearly rules
    start = date(period.start.year, (period.start.month - 1) // months * months + 1, 1)
    start = _add_months(start, -months)  # a window starting before the period may fall due inside it
    out = []
    while start < period.end:
        end = _add_months(start, months)
        due = min(start + timedelta(days=due_day - 1), end - timedelta(days=1))
        if period.start <= due < period.end:
            out.append(Window(start, end, due, at_midnight(start), at_midnight(end),
                              at_midnight(due + timedelta(days=1))))
        start = end
    return out


def instances(rule: Rule, period: Period, shapes: dict | None = None) -> list[Instance]:
    """The instances of `rule` whose due day falls in `period`, oldest first (`shapes` memoises `windows`)."""
    key = (rule.frequency, rule.due_day)
    found = shapes.get(key) if shapes is not None else None
    if found is None:
        found = windows(rule.frequency, rule.due_day, period)
        if shapes is not None:
            shapes[key] = found
    return [Instance(rule, w) for w in found if w.due_day >= rule.effective_from]


def classify(instance: Instance, publications: list[tuple[datetime, int]], now: datetime) -> Outcome:
    """The outcome of one instance, given the (published_at, notice id) pairs of notices of its category reaching
    its estate, sorted by time."""
    w = instance.window
    index = bisect.bisect_left(publications, (w.lo, -1))
    if index < len(publications) and publications[index][0] < w.hi and publications[index][0] <= now:
        at, notice_id = publications[index]
        return Outcome(instance, "on_time" if at < w.deadline else "late", notice_id, at)
    return Outcome(instance, "pending" if now < w.deadline else "missing")


@dataclass
class Tally:
    due: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "pending":
            self.pending += 1
            return
        self.due += 1
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)

    def merge(self, other: "Tally") -> None:
        for name in ("due", "on_time", "late", "missing", "pending"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def on_time_rate(self) -> float | None:
        """On-time share (0–1) of the instances already due."""
        return self.on_time / self.due if self.due else None

    def credit(self, late_credit: float) -> float | None:
        """(on time + late × credit) ÷ due, 0–1: the composite's disclosure component."""
        return (self.on_time + self.late * late_credit) / self.due if self.due else None

    def as_dict(self) -> dict:
        return {"due": self.due, "on_time": self.on_time, "late": self.late, "missing": self.missing,
                "pending": self.pending, "on_time_rate": None if self.on_time_rate is None
                else round(self.on_time_rate, 4)}


def evaluate(rules: list[Rule], period: Period, published: dict[tuple[int, str], list[tuple[datetime, int]]],
             now: datetime) -> list[Outcome]:
    """Every instance of `rules` due in `period`, classified. `published` maps (estate id, category) to its
    sorted (published_at, notice id) pairs."""
    out, shapes = [], {}
    for rule in rules:
        pubs = published.get((rule.estate_id, rule.category), [])
        out.extend(classify(i, pubs, now) for i in instances(rule, period, shapes))
    return out


def fetch_range(rules: list[Rule], period: Period) -> tuple[datetime, datetime] | None:
    """The span of publication times that can matter for `rules` in `period` (None when nothing is owed)."""
    spans = [w for shape in {(r.frequency, r.due_day) for r in rules} for w in windows(*shape, period)]
    if not spans:
        return None
    return min(w.lo for w in spans), max(w.hi for w in spans)
