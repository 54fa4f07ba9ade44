"""Scorecards assembled from the database's aggregates: one `Board` per subject kind, period and jurisdiction, with a
`Card` per company (or developer) and a row per estate, the composite, ranks, the previous period's score, the
trend of one subject over the last periods, and its source rows (campaigns, tickets, disclosures).

Used by the console pages, the JSON API, the dashboard panel, the command line and the publications alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.scorecards import disclosures, queries
from handlers.scorecards.config import ScorecardConfig
from handlers.scorecards.figures import Campaign, Card, EstateCard, Part, SurveySource, finish, rank
from handlers.scorecards.periods import Period, _add_months, at_midnight
from handlers.surveys.tally import Scores
from handlers.tickets import partner_times

KIND_LABELS = {"property": "物业服务企业", "developer": "开发建设单位"}
NO_ESTATE = "（未登记小区）"


@dataclass
class Board:
    kind: str
    period: Period
    cards: list[Card]
    estates: dict[int, queries.EstateInfo]
    days: float
    outcomes: list[disclosures.Outcome] = field(default_factory=list)

    def card(self, subject_id: int) -> Card | None:
        return next((c for c in self.cards if c.subject_id == subject_id), None)

    @property
    def ranked(self) -> list[Card]:
        return [c for c in self.cards if c.rank is not None]


def elapsed_days(period: Period, now: datetime) -> float:
    """Days of the period already passed (the whole period once it is over; at least 1)."""
    since, until = period.bounds()
    end = min(until, max(now, since))
    return max(1.0, (end - since).total_seconds() / 86400)


def survey_window(period: Period, config: ScorecardConfig) -> tuple[datetime, datetime]:
    """Campaigns closed in [period end − survey_months, period end) count for the period."""
    return at_midnight(_add_months(period.end, -config.survey_months)), at_midnight(period.end)


async def build(session: AsyncSession, kind: str, period: Period, communities, config: ScorecardConfig,
                now: datetime, *, subject_ids=None, with_previous: bool = False, detail: bool | None = None,
                store: queries.Store | None = None) -> Board:
    """Every subject's card for the period inside `communities` (a SELECT of ids, a list, or None = all),
    ranked; `subject_ids` restricts to some subjects (their ranks are then among themselves). `detail` adds the
    estates' median days to resolve and their composites (default: when restricted to some subjects). `store`
    keeps the totals of settled campaigns aggregated here (see `queries.survey_totals`)."""
    since, until = period.bounds()
    categories = config.categories[kind]
    estate_info = await queries.estates(session, communities)
    detail = subject_ids is not None if detail is None else detail
    groups, medians, estate_medians = await queries.ticket_figures(session, kind, categories, since, until,
                                                                   communities, now, subject_ids, per_estate=detail)
    lo, hi = survey_window(period, config)
    candidates = queries.finished_campaigns(kind, lo, hi, communities, subject_ids)
    chosen = await queries.campaign_estates(session, candidates, communities)
    found = await queries.campaigns(session, candidates) if chosen else {}
    answers = await queries.survey_totals(session, found, communities, now, candidates, store, set(estate_info))

    wanted = None if subject_ids is None else set(subject_ids)
    subjects: dict[int, set[int | None]] = {}
    for e in estate_info.values():
        sid = e.subject(kind)
        if sid is not None and (wanted is None or sid in wanted):
            subjects.setdefault(sid, set()).add(e.id)
    for sid, eid in list(groups) + list(chosen):
        subjects.setdefault(sid, set()).add(eid)

    outcomes: list[disclosures.Outcome] = []
    tallies: dict[int, disclosures.Tally] = {}
    own: dict[int, disclosures.Tally] = {}
    if kind == "property":
        served = [e.id for e in estate_info.values() if e.property_company_id is not None and
                  (wanted is None or e.property_company_id in wanted)]
        rules = await queries.disclosure_rules(session, communities, served if wanted is not None else None)
        span = disclosures.fetch_range(rules, period)
        published = await queries.publications_for_rules(
            session, communities, *span, None if wanted is None else [r.estate_id for r in rules]) if span else {}
        outcomes = disclosures.evaluate(rules, period, published, now)
        for outcome in outcomes:
            tallies.setdefault(outcome.instance.rule.estate_id, disclosures.Tally()).add(outcome)
        # the company's own timeliness: its drafts submitted for review (console_partner) against the same duties
        drafted = await queries.publications_for_rules(
            session, communities, *span, None if wanted is None else [r.estate_id for r in rules],
            by_company=True) if span else {}
        for outcome in disclosures.evaluate(rules, period, drafted, now):
            own.setdefault(outcome.instance.rule.estate_id, disclosures.Tally()).add(outcome)

    names = await queries.subjects(session, kind, subjects)
    handed = await partner_times.load(session, communities, since, until,
                                      None if wanted is None else [f"{kind}:{sid}" for sid in wanted])
    timeliness = partner_times.summarise((x.handling for x in handed), now)
    days = elapsed_days(period, now)
    cards = []
    for sid, estate_ids in subjects.items():
        code, name = names.get(sid, ("", f"#{sid}"))
        card = Card(kind, sid, name, code, Part(disclosure=disclosures.Tally() if kind == "property" else None),
                    partner=timeliness.get(f"{kind}:{sid}") or partner_times.PartnerFigures())
        for eid in sorted(estate_ids, key=lambda i: (i is None, i or 0)):
            info = estate_info.get(eid) if eid is not None else None
            part = Part(households=info.households if info else None)
            current = info is not None and info.subject(kind) == sid
            if kind == "property":
                part.disclosure = tallies.get(eid, disclosures.Tally()) if current else disclosures.Tally()
                if current and eid in own:
                    card.own_disclosure.merge(own[eid])
            if (sid, eid) in groups:
                part.tickets.add(*groups[(sid, eid)])
                part.tickets.figures.median_resolve_days = estate_medians.get((sid, eid))
            campaign_id = chosen.get((sid, eid)) if eid is not None else None
            if campaign_id is not None:
                c = found[campaign_id]
                respondents, scores, per_question, _ = answers.get((campaign_id, eid), (0, None, {}, None))
                source = SurveySource(Campaign(c.id, c.title, c.subject_id, c.closed_at, c.rating_questions), eid,
                                      respondents, int(c.eligible.get(str(eid), 0)), scores or Scores(),
                                      per_question)
                part.survey.add(source)
            card.estates.append(EstateCard(eid, info.name if info else (str(eid) if eid else NO_ESTATE),
                                           info.community if info else "—", part))
            _merge(card.overall, part)
        card.overall.tickets.figures.median_resolve_days = medians.get(sid)
        cards.append(finish(card, config, days, estates=detail))
    board = Board(kind, period, rank(cards), estate_info, days, outcomes)
    if with_previous:
        before = await build(session, kind, period.shifted(-1), communities, config, now, subject_ids=subject_ids,
                             store=store)
        for card in board.cards:
            old = before.card(card.subject_id)
            card.previous_score = old.score if old else None
    return board


def _merge(total: Part, part: Part) -> None:
    total.add_households(part.households)
    for source in part.survey.sources:
        total.survey.add(source)
    total.tickets.add(part.tickets.figures, part.tickets.escalated)
    if total.disclosure is not None and part.disclosure is not None:
        total.disclosure.merge(part.disclosure)


async def trend(session: AsyncSession, kind: str, subject_id: int, period: Period, communities,
                config: ScorecardConfig, now: datetime, current: Card | None = None,
                store: queries.Store | None = None) -> list[tuple[Period, Card | None]]:
    """The subject's card in each of the last `trend_periods` periods ending with `period` (oldest first).
    Ranks are not recomputed for past periods (they need every subject); pass the current card to reuse it."""
    out = []
    for p in period.previous(config.trend_periods):
        if p == period and current is not None:
            out.append((p, current))
            continue
        board = await build(session, kind, p, communities, config, now, subject_ids=[subject_id], store=store)
        out.append((p, board.card(subject_id)))
    return out


@dataclass
class Sources:
    """Where every figure of one card comes from."""

    campaigns: list[SurveySource]
    tickets: list[tuple[queries.TicketRow, dict]]  # each row with the counts it contributes to
    tickets_total: int
    disclosures: list[disclosures.Outcome]


def ticket_marks(row: queries.TicketRow, now: datetime) -> dict:
    """What one ticket counts for, decided by the tickets' own `stats.compute` on that ticket alone."""
    from handlers.tickets.stats import compute

    f = compute([row.fact()], now)
    return {"accepted": bool(f.accepted), "response_due": bool(f.response_due),
            "responded_in_time": bool(f.responded_in_time), "resolved": bool(f.resolved),
            "resolved_in_time": bool(f.resolved_in_time), "rated": bool(f.rated), "satisfied": bool(f.satisfied),
            "escalated": bool(f.accepted) and row.level != "community"}


async def sources(session: AsyncSession, board: Board, card: Card, communities, config: ScorecardConfig,
                  now: datetime, limit: int | None = 300) -> Sources:
    since, until = board.period.bounds()
    rows, total = await queries.ticket_rows(session, board.kind, card.subject_id, config.categories[board.kind],
                                            since, until, communities, limit)
    estate_ids = {row.estate_id for row in card.estates if row.estate_id is not None and
                  board.estates.get(row.estate_id) is not None and
                  board.estates[row.estate_id].subject(board.kind) == card.subject_id}
    outcomes = [o for o in board.outcomes if o.instance.rule.estate_id in estate_ids]
    outcomes.sort(key=lambda o: (o.instance.due_day, o.instance.rule.estate_id, o.instance.rule.category))
    return Sources(list(card.overall.survey.sources), [(r, ticket_marks(r, now)) for r in rows], total, outcomes)
