"""Assessment periods, as pure values: a month (`2026-11`), a quarter (`2026-Q3`), a half year (`2026-H1`) or a
year (`2026`), in Tianjin local dates; parsing with a Chinese message for bad input, labels, the previous periods
(for the trend), and the UTC bounds that queries use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from bot.localtime import LOCAL_TZ

KINDS = ("month", "quarter", "half", "year")
_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-?[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-?[Hh]([12])$"), "half"),
    (re.compile(r"^(\d{4})$"), "year"),
]
EXAMPLES = "2026-11（月）、2026-Q3（季度）、2026-H1（半年）或 2026（年）"


class PeriodError(ValueError):
    """A period that cannot be read; the message is Chinese."""


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day (local)
    end: date  # the day after the last day (local, exclusive)
    kind: str

    @property
    def key(self) -> str:
        """The canonical text: 2026-11, 2026-Q3, 2026-H1, 2026."""
        y, m = self.start.year, self.start.month
        return {"month": f"{y}-{m:02d}", "quarter": f"{y}-Q{(m - 1) // 3 + 1}", "half": f"{y}-H{(m - 1) // 6 + 1}",
                "year": f"{y}"}[self.kind]

    @property
    def label(self) -> str:
        y, m = self.start.year, self.start.month
        return {"month": f"{y}年{m}月", "quarter": f"{y}年第{(m - 1) // 3 + 1}季度",
                "half": f"{y}年{'上' if m == 1 else '下'}半年", "year": f"{y}年"}[self.kind]

    @property
    def short_label(self) -> str:
        y, m = self.start.year, self.start.month
        return {"month": f"{y % 100:02d}-{m:02d}", "quarter": f"{y % 100:02d}Q{(m - 1) // 3 + 1}",
                "half": f"{y % 100:02d}H{(m - 1) // 6 + 1}", "year": f"{y}"}[self.kind]

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes at local midnight."""
        return at_midnight(self.start), at_midnight(self.end)

    def shifted(self, steps: int) -> "Period":
        """The period `steps` periods later (negative: earlier), of the same kind."""
        months = _MONTHS[self.kind]
        start = _add_months(self.start, steps * months)
        return Period(start, _add_months(start, months), self.kind)

    def previous(self, count: int) -> list["Period"]:
        """The `count` periods ending with this one, oldest first."""
        return [self.shifted(-n) for n in range(count - 1, -1, -1)]


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ)


def parse(text: str | None) -> Period:
    raw = (text or "").strip()
    for pattern, kind in _PATTERNS:
        found = pattern.match(raw)
        if not found:
            continue
        year = int(found.group(1))
        number = int(found.group(2)) if kind != "year" else 1
        if not 2000 <= year <= 2100:
            break
        if kind == "month" and not 1 <= number <= 12:
            break
        first_month = {"month": number, "quarter": (number - 1) * 3 + 1, "half": (number - 1) * 6 + 1,
                       "year": 1}[kind]
        start = date(year, first_month, 1)
        return Period(start, _add_months(start, _MONTHS[kind]), kind)
    raise PeriodError(f"评议期「{raw}」格式有误，应为 {EXAMPLES}")


def containing(moment: datetime, kind: str = "quarter") -> Period:
    """The period of `kind` that contains `moment` (local time)."""
    day = moment.astimezone(LOCAL_TZ).date()
    months = _MONTHS[kind]
    first = (day.month - 1) // months * months + 1
    start = date(day.year, first, 1)
    return Period(start, _add_months(start, months), kind)


def choices(now: datetime, chosen: "Period | None" = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped (key, label) options for the period picker: the last 8 quarters, 4 half-years, 3 years and 12
    months up to the present, newest first; a chosen period outside them is kept at the top."""
    groups = [("季度", containing(now, "quarter").previous(8)), ("半年", containing(now, "half").previous(4)),
              ("年度", containing(now, "year").previous(3)), ("月份", containing(now, "month").previous(12))]
    out = [(name, [(p.key, p.label) for p in reversed(periods)]) for name, periods in groups]
    if chosen is not None and not any(chosen.key == key for _, opts in out for key, _ in opts):
        out.insert(0, ("所选", [(chosen.key, chosen.label)]))
    return out
