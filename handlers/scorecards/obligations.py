"""Setting which disclosures each estate's property-service company owes (the `disclosure_rules` table): list the
rules of a jurisdiction, add or change a rule for several estates at once, remove one. Validation is in
`disclosures.problem` (pure); jurisdiction is checked by the caller (console/API) before writing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.notices.rules import CATEGORIES
from handlers.scorecards import disclosures
from storage.models import Community, Estate, PropertyCompany
from storage.repositories import scorecards as repo
from storage.scorecard_models import DisclosureRule

# meeting minutes are the residents' committee's, general notices nobody's: not a company's duty
CATEGORY_CHOICES = {k: CATEGORIES[k] for k in ("finance", "property", "subsidy", "committee")}


class RuleError(ValueError):
    """Why a rule cannot be saved (Chinese)."""


@dataclass(frozen=True)
class RuleRow:
    id: int
    estate_id: int
    estate: str
    estate_code: str
    community: str
    company: str | None
    category: str
    frequency: str
    due_day: int
    effective_from: date

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def frequency_label(self) -> str:
        return disclosures.FREQUENCIES.get(self.frequency, self.frequency)

    def as_dict(self) -> dict:
        return {"id": self.id, "estate_id": self.estate_id, "estate": self.estate, "estate_code": self.estate_code,
                "community": self.community, "company": self.company, "category": self.category,
                "category_label": self.category_label, "frequency": self.frequency, "due_day": self.due_day,
                "effective_from": self.effective_from.isoformat()}


async def listing(session: AsyncSession, communities) -> list[RuleRow]:
    stmt = (select(DisclosureRule.id, DisclosureRule.estate_id, Estate.name, Estate.code, Community.name,
                   PropertyCompany.name, DisclosureRule.category, DisclosureRule.frequency, DisclosureRule.due_day,
                   DisclosureRule.effective_from)
            .join(Estate, Estate.id == DisclosureRule.estate_id).join(Community, Community.id == Estate.community_id)
            .outerjoin(PropertyCompany, PropertyCompany.id == Estate.property_company_id)
            .order_by(Community.id, Estate.id, DisclosureRule.category))
    if communities is not None:
        stmt = stmt.where(Estate.community_id.in_(communities))
    return [RuleRow(*row) for row in (await session.execute(stmt)).all()]


async def estates(session: AsyncSession, communities) -> list[tuple[int, str, str, str]]:
    """(id, code, name, community name) of the estates in the jurisdiction, for the form."""
    stmt = (select(Estate.id, Estate.code, Estate.name, Community.name).join(Community)
            .order_by(Community.id, Estate.id))
    if communities is not None:
        stmt = stmt.where(Estate.community_id.in_(communities))
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def estate_ids(session: AsyncSession, refs: list) -> dict[int, int]:
    """Estate id → community id for estates named by id or code; RuleError naming the ones not found."""
    numbers = {int(r) for r in refs if isinstance(r, int) or str(r).strip().isdigit()}
    codes = {str(r).strip().upper() for r in refs if not (isinstance(r, int) or str(r).strip().isdigit())}
    rows = (await session.execute(select(Estate.id, Estate.code, Estate.community_id).where(
        Estate.id.in_(numbers) | Estate.code.in_(codes)))).all()
    missing = [str(n) for n in numbers if n not in {r[0] for r in rows}] + \
        sorted(c for c in codes if c not in {r[1] for r in rows})
    if missing or not refs:
        raise RuleError("请选择至少一个小区" if not refs else "找不到这些小区：" + "、".join(missing))
    return {eid: cid for eid, _, cid in rows}


def parse(category, frequency, due_day, effective_from) -> tuple[str, str, int, date]:
    """Validated rule values from form or JSON input; RuleError (Chinese) otherwise."""
    category, frequency = str(category or "").strip(), str(frequency or "").strip()
    if category not in CATEGORY_CHOICES:
        raise RuleError("公示类别应为 " + "、".join(f"{k}（{v}）" for k, v in CATEGORY_CHOICES.items()))
    try:
        day = int(str(due_day).strip())
    except (TypeError, ValueError):
        raise RuleError("截止日应为整数，例如 10 表示每期第 10 天前公示") from None
    found = disclosures.problem(frequency, day)
    if found:
        raise RuleError(found)
    try:
        start = date.fromisoformat(str(effective_from).strip()) if effective_from not in (None, "") else None
    except ValueError:
        raise RuleError("生效日期格式应为 2026-01-01") from None
    return category, frequency, day, start or date(2000, 1, 1)


async def save(session: AsyncSession, estates_: list[int], category: str, frequency: str, due_day: int,
               effective_from: date, by: str, now: datetime) -> int:
    """Add the rule to each estate, or change the estate's rule of that category; returns how many."""
    existing = {r.estate_id: r for r in await session.scalars(select(DisclosureRule).where(
        DisclosureRule.estate_id.in_(estates_), DisclosureRule.category == category))}
    for estate_id in estates_:
        rule = existing.get(estate_id)
        if rule is None:
            session.add(DisclosureRule(estate_id=estate_id, category=category, frequency=frequency, due_day=due_day,
                                       effective_from=effective_from, created_by=by[:64], created_at=now))
        else:
            rule.frequency, rule.due_day, rule.effective_from = frequency, due_day, effective_from
            rule.created_by, rule.created_at = by[:64], now
    await session.flush()
    return len(estates_)


async def community_of(session: AsyncSession, rule_id: int) -> int | None:
    stmt = select(Estate.community_id).join(DisclosureRule, DisclosureRule.estate_id == Estate.id).where(
        DisclosureRule.id == rule_id)
    return await session.scalar(stmt)


async def remove(session: AsyncSession, rule_id: int) -> bool:
    return await repo.remove_disclosure_rule(session, rule_id)
