"""Working days: China's public holidays and make-up working days (调休) from YAML files, and time arithmetic.

A working day counts 24 hours of the ticket clock, in Beijing time; other days do not count at all. So "sign
within 1 working day" for a ticket filed on Friday at 10:00 means by Monday 10:00, and one filed on Saturday
must be signed by the end of Monday. Holiday files (one per year) live in `handlers/tickets/holidays/`; an
operator adds a year by dropping `<year>.yaml` there or in the folder named by `LINLI_TICKET_HOLIDAYS_DIR`
(format in docs/tickets.md). Years without a file count Monday–Friday as working days.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterable

import yaml

from bot.localtime import LOCAL_TZ

log = logging.getLogger("linli.tickets")
BUNDLED = Path(__file__).with_name("holidays")
DAY = 86400.0
MAX_DAYS = 3700  # ten years: no deadline lies further away


class CalendarError(ValueError):
    """A holiday file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up working days on weekends
    years: frozenset[int] = frozenset()

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        return year in self.years

    def add(self, start: datetime, working_days: float) -> datetime:
        """The moment `working_days` of working time after `start` (aware; returned in UTC)."""
        remaining = working_days * DAY
        t = start.astimezone(LOCAL_TZ)
        for _ in range(MAX_DAYS):
            midnight = datetime.combine(t.date() + timedelta(days=1), time(0), LOCAL_TZ)
            if self.is_working(t.date()):
                chunk = (midnight - t).total_seconds()
                if remaining <= chunk:
                    return (t + timedelta(seconds=remaining)).astimezone(start.tzinfo)
                remaining -= chunk
            t = midnight
        raise ValueError("期限超出日历范围")

    def between(self, a: datetime, b: datetime) -> float:
        """Working days (fractional) elapsed from `a` to `b`; negative when `b` is earlier."""
        if b < a:
            return -self.between(b, a)
        t, end, total = a.astimezone(LOCAL_TZ), b.astimezone(LOCAL_TZ), 0.0
        for _ in range(MAX_DAYS):
            if t >= end:
                break
            midnight = datetime.combine(t.date() + timedelta(days=1), time(0), LOCAL_TZ)
            if self.is_working(t.date()):
                total += (min(midnight, end) - t).total_seconds()
            t = midnight
        return total / DAY

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working(day):
            day += timedelta(days=1)
        return day


def _days(entry, where: str) -> list[date]:
    if isinstance(entry, date):
        return [entry]
    text = str(entry).strip()
    try:
        if ".." in text:
            first, last = (date.fromisoformat(p.strip()) for p in text.split("..", 1))
            if last < first:
                raise ValueError
            return [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return [date.fromisoformat(text)]
    except ValueError:
        raise CalendarError(f"{where}：无法识别的日期「{text}」，应为 2026-01-01 或 2026-02-15..2026-02-23") from None


def parse_year(text: str, name: str = "节假日文件") -> tuple[int, set[date], set[date]]:
    """(year, holidays, make-up workdays) of one holiday file's text. Raises CalendarError."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CalendarError(f"{name}：YAML 格式错误：{exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("year"), int):
        raise CalendarError(f"{name}：缺少 year（年份）")
    year = doc["year"]
    found: dict[str, set[date]] = {}
    for key in ("holidays", "workdays"):
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            raise CalendarError(f"{name}：{key} 应为列表")
        found[key] = {d for e in entries for d in _days(e, f"{name} {key}")}
        stray = sorted(d for d in found[key] if d.year != year)
        if stray:
            raise CalendarError(f"{name}：{stray[0]} 不在 {year} 年内")
    both = found["holidays"] & found["workdays"]
    if both:
        raise CalendarError(f"{name}：{min(both)} 同时列为放假和上班")
    return year, found["holidays"], found["workdays"]


def load(folders: Iterable[Path]) -> WorkCalendar:
    """Every `<year>.yaml` in `folders` (later folders override a year given earlier)."""
    by_year: dict[int, tuple[set[date], set[date]]] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            year, holidays, workdays = parse_year(path.read_text(encoding="utf-8"), path.name)
            by_year[year] = (holidays, workdays)
    holidays = frozenset(d for h, _ in by_year.values() for d in h)
    workdays = frozenset(d for _, w in by_year.values() for d in w)
    return WorkCalendar(holidays, workdays, frozenset(by_year))


@functools.lru_cache(maxsize=8)
def _cached(extra: str | None) -> WorkCalendar:
    folders = [BUNDLED] + ([Path(extra)] if extra else [])
    return load(folders)


def calendar_for(settings=None) -> WorkCalendar:
    """The calendar of this deployment: the bundled years plus `LINLI_TICKET_HOLIDAYS_DIR`."""
    return _cached(settings.ticket_holidays_dir if settings is not None else None)
