"""Time limits (SLA) per level and category, in working days, and the deadlines they give.

Defaults: sign for (签收) a ticket within 1 working day at every level; resolve within 7 working days at the
community, 15 at the street office, 30 at the district; chase (催办) when 1 working day is left; close a resolved
ticket nobody rated after 7 working days. Change them with settings (environment; declared in bot/settings.py):

    LINLI_TICKET_SIGN_DAYS=1
    LINLI_TICKET_RESOLVE_DAYS=community:7,street:15,district:30
    LINLI_TICKET_RESOLVE_DAYS_REPAIR=community:3          # per category (code upper-case), overrides the level
    LINLI_TICKET_CHASE_DAYS=1
    LINLI_TICKET_RATING_DAYS=7
    LINLI_TICKET_DUPLICATE_HOURS=24                       # same resident, same complaint: tell, do not reopen
    LINLI_TICKET_SLA_FILE=/etc/linli/sla.yaml             # or all of it in one YAML file (docs/tickets.md)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from handlers.tickets.calendar import WorkCalendar, calendar_for
from handlers.tickets.rules import CATEGORIES, LEVELS

DEFAULT_RESOLVE = {"community": 7.0, "street": 15.0, "district": 30.0}


class SlaError(ValueError):
    """A bad SLA setting; the message names it."""


@dataclass(frozen=True)
class Sla:
    sign_days: float = 1.0
    resolve_days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RESOLVE))
    by_category: dict[str, dict[str, float]] = field(default_factory=dict)  # category → level → days
    chase_days: float = 1.0
    rating_days: float = 7.0
    duplicate_hours: float = 24.0
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def resolve_limit(self, level: str, category: str) -> float:
        return self.by_category.get(category, {}).get(level, self.resolve_days[level])

    def deadlines(self, since: datetime, level: str, category: str) -> tuple[datetime, datetime]:
        """(sign by, resolve by) for a ticket that reached `level` at `since`."""
        return (self.calendar.add(since, self.sign_days),
                self.calendar.add(since, self.resolve_limit(level, category)))


def _number(name: str, raw) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SlaError(f"{name}：应为数字（工作日），而不是「{raw}」") from None
    if not 0 < value <= 365:
        raise SlaError(f"{name}：应在 0 到 365 个工作日之间")
    return value


def _levels(name: str, raw) -> dict[str, float]:
    if isinstance(raw, dict):
        pairs = raw.items()
    else:
        pairs = [p.split(":", 1) if ":" in p else ("", p) for p in str(raw).split(",") if p.strip()]
    out = {}
    for level, days in pairs:
        level = str(level).strip()
        if level not in LEVELS:
            raise SlaError(f"{name}：层级应为 community、street 或 district，而不是「{level}」")
        out[level] = _number(f"{name}（{level}）", days)
    return out


def from_mapping(values: dict, calendar: WorkCalendar) -> Sla:
    """Build from a mapping with keys sign_days, resolve_days, categories, chase_days, rating_days,
    duplicate_hours (the YAML file's shape; the environment is translated to it)."""
    resolve = {**DEFAULT_RESOLVE, **_levels("resolve_days", values.get("resolve_days") or {})}
    by_category = {}
    for code, levels in (values.get("categories") or {}).items():
        if code not in CATEGORIES:
            raise SlaError(f"categories：没有「{code}」这个类别（可用：{', '.join(CATEGORIES)}）")
        by_category[code] = _levels(f"categories.{code}", levels)
    return Sla(
        sign_days=_number("sign_days", values.get("sign_days", 1)),
        resolve_days=resolve, by_category=by_category,
        chase_days=_number("chase_days", values.get("chase_days", 1)),
        rating_days=_number("rating_days", values.get("rating_days", 7)),
        duplicate_hours=_number("duplicate_hours", values.get("duplicate_hours", 24)),
        calendar=calendar)


def from_settings(settings) -> Sla:
    """The deployment's SLA: the YAML file (if any), then LINLI_TICKET_* settings on top. Raises SlaError."""
    values: dict = {}
    path = settings.ticket_sla_file if settings is not None else None
    if path:
        try:
            values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SlaError(f"LINLI_TICKET_SLA_FILE={path}：无法读取：{exc}") from None
    if settings is not None:
        simple = {"sign_days": settings.ticket_sign_days, "chase_days": settings.ticket_chase_days,
                  "rating_days": settings.ticket_rating_days, "duplicate_hours": settings.ticket_duplicate_hours,
                  "resolve_days": settings.ticket_resolve_days}
        values.update({key: value for key, value in simple.items() if value is not None})
        for code, raw in settings.ticket_resolve_days_by_category.items():
            values.setdefault("categories", {})[code.lower()] = raw
    return from_mapping(values, calendar_for(settings))


def sla_of(services) -> Sla:
    """The SLA for these services (parsed once, kept in `services.extras`)."""
    found = services.extras.get("tickets.sla")
    if found is None:
        found = services.extras["tickets.sla"] = from_settings(services.settings)
    return found
