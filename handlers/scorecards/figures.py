"""The scorecard's figures, the composite score and the ranking, as pure functions over aggregates that the
database computed (`queries.py`); nothing here reads rows one by one.

Reused definitions, so a figure means the same everywhere in linli:
- survey satisfaction rate and mean pool every rating answer (share of 4–5, average) exactly like the surveys'
  `tally.Scores`; participation = respondents ÷ eligible at closing (`eligible_snapshot`); thin below
  `tally.THIN` responses unless configured otherwise;
- ticket counts fill the tickets' own `stats.Figures`, whose properties give the response, resolution, on-time and
  satisfaction rates (docs/tickets.md); the SQL that counts them is the tickets' own `stats.sql_counts`, the
  database side of the definitions `stats.compute` applies (a test holds them equal).
The company's own handling of tickets 交办 to it (`Card.partner`: response and resolution hours from the
timeline, `handlers.tickets.partner_times`) is shown beside the figures, not weighted into the composite.
Added here: tickets per 1,000 households, the share escalated beyond the community (tickets now at the street or
district among accepted ones), disclosure diligence (`disclosures.Tally`), the composite and the ranks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import datetime

from handlers.scorecards.config import COMPONENTS, ScorecardConfig
from handlers.scorecards.disclosures import Tally
from handlers.surveys.tally import Scores, ratio
from handlers.tickets.partner_times import PartnerFigures
from handlers.tickets.stats import Figures, add_figures

FLAG_LABELS = {"no_responses": "无调查答卷", "thin": "样本不足", "no_score": "无可评分项"}


@dataclass(frozen=True)
class Campaign:
    """A finished campaign whose answers count: which one, so every satisfaction figure can be traced."""

    id: int
    title: str
    subject_id: int
    closed_at: datetime
    rating_questions: tuple[tuple[str, str], ...]  # (question id, title) of its rating questions

    @functools.cached_property
    def titles(self) -> dict[str, str]:
        return dict(self.rating_questions)


def _add_scores(total: Scores, part: Scores) -> None:
    """`Scores.merge` without the distribution (the database gives counts, sums and 4–5 counts only)."""
    total.rated += part.rated
    total.satisfied += part.satisfied
    total.total += part.total


@dataclass
class SurveySource:
    """One campaign's answers from one estate (a group the database aggregated)."""

    campaign: Campaign
    estate_id: int
    respondents: int
    eligible: int
    scores: Scores
    questions: dict[str, Scores] = field(default_factory=dict)

    @property
    def participation(self) -> float | None:
        return ratio(self.respondents, self.eligible)


@dataclass
class SurveyPart:
    respondents: int = 0
    eligible: int = 0
    scores: Scores = field(default_factory=Scores)
    questions: dict[str, Scores] = field(default_factory=dict)  # by question title (templates share titles)
    sources: list[SurveySource] = field(default_factory=list)

    def add(self, source: SurveySource) -> None:
        self.respondents += source.respondents
        self.eligible += source.eligible
        _add_scores(self.scores, source.scores)
        titles = source.campaign.titles
        for qid, scores in source.questions.items():
            title = titles.get(qid, qid)
            if title not in self.questions:
                self.questions[title] = Scores()
            _add_scores(self.questions[title], scores)
        self.sources.append(source)

    @property
    def participation(self) -> float | None:
        return ratio(self.respondents, self.eligible)

    @property
    def rate(self) -> float | None:
        return self.scores.satisfaction

    @property
    def mean(self) -> float | None:
        return self.scores.mean


@dataclass
class TicketPart:
    figures: Figures = field(default_factory=Figures)
    escalated: int = 0  # accepted tickets now above the community (escalated or returned upwards)

    def add(self, figures: Figures, escalated: int) -> None:
        add_figures(self.figures, figures)
        self.escalated += escalated

    @property
    def escalated_share(self) -> float | None:
        """Share (0–1) of accepted tickets that left the community."""
        return self.escalated / self.figures.accepted if self.figures.accepted else None


@dataclass
class Part:
    """The figures of one estate, or of a subject over all its estates in view."""

    households: int | None = None
    survey: SurveyPart = field(default_factory=SurveyPart)
    tickets: TicketPart = field(default_factory=TicketPart)
    disclosure: Tally | None = None  # property-service companies only

    def per_thousand(self) -> float | None:
        """Tickets received per 1,000 households in the period."""
        if not self.households:
            return None
        return self.tickets.figures.received / self.households * 1000

    def add_households(self, n: int | None) -> None:
        if n:
            self.households = (self.households or 0) + n


@dataclass(frozen=True)
class Component:
    key: str
    value: float | None  # 0–100; None: no data
    weight: float
    used: bool
    note: str = ""

    @property
    def label(self) -> str:
        return COMPONENTS[self.key]


def components(kind: str, part: Part, config: ScorecardConfig, days: float) -> list[Component]:
    """The composite's components for `part`, each on a 0–100 scale, with why one is left out. `days` is the
    length of the period elapsed so far (ticket volume is scaled to 30 days)."""
    f, minimum = part.tickets.figures, config.min_tickets
    weights = config.weights_for(kind)
    out = []

    def put(key: str, value: float | None, enough: bool, why: str) -> None:
        if key not in weights:
            return
        used = value is not None and enough and weights[key] > 0
        note = "" if used else ("权重为 0" if value is not None and enough else why)
        out.append(Component(key, None if value is None else round(value, 2), weights[key], used, note))

    rate = part.survey.rate
    put("survey", None if rate is None else rate * 100, True, "无调查答卷")
    few = f"件数少于 {minimum}"
    put("response", None if not f.response_due else f.responded_in_time / f.response_due * 100,
        f.response_due >= minimum, few if f.response_due else "无投诉")
    put("resolution", None if not f.accepted else f.resolved / f.accepted * 100, f.accepted >= minimum,
        few if f.accepted else "无投诉")
    put("ticket_satisfaction", None if not f.rated else f.satisfied / f.rated * 100, f.rated >= minimum,
        f"评价少于 {minimum} 件" if f.rated else "无评价")
    volume = part.per_thousand()
    if volume is not None:
        monthly = volume * 30 / max(days, 1.0)
        volume = max(0.0, 1 - monthly / config.volume_ceiling) * 100
    put("volume", volume, True, "户数未登记")
    share = part.tickets.escalated_share
    put("escalation", None if share is None else (1 - share) * 100, f.accepted >= minimum,
        few if f.accepted else "无投诉")
    if part.disclosure is not None:
        credit = part.disclosure.credit(config.late_credit)
        put("disclosure", None if credit is None else credit * 100, True, "无应公示事项")
    return out


def composite(parts: list[Component]) -> float | None:
    """Weighted mean of the components in use (weights renormalised over them), 0–100, one decimal. None
    without survey answers when the survey has a weight: residents' satisfaction is the policy's basis of the
    assessment, and tickets alone (or their absence) must not make a score."""
    if any(c.key == "survey" and c.weight > 0 and not c.used for c in parts):
        return None
    used = [c for c in parts if c.used]
    total = sum(c.weight for c in used)
    if not total:
        return None
    return round(sum(c.value * c.weight for c in used) / total, 1)  # type: ignore[operator]


def flags(part: Part, score: float | None, config: ScorecardConfig) -> list[str]:
    """Why a card is not ranked: no survey responses, too few, or nothing to score."""
    out = []
    if part.survey.respondents == 0:
        out.append("no_responses")
    elif part.survey.respondents < config.min_responses:
        out.append("thin")
    if score is None and not out:
        out.append("no_score")
    return out


@dataclass
class EstateCard:
    estate_id: int | None
    estate: str
    community: str
    part: Part
    components: list[Component] = field(default_factory=list)
    score: float | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class Card:
    kind: str
    subject_id: int
    subject_name: str
    subject_code: str
    overall: Part
    estates: list[EstateCard] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    score: float | None = None
    flags: list[str] = field(default_factory=list)
    rank: int | None = None
    ranked_of: int = 0
    previous_score: float | None = None
    # the company's own timeliness on the tickets 交办 to it in the period (shown, not in the composite)
    partner: PartnerFigures = field(default_factory=PartnerFigures)
    # property companies: their own drafts submitted for review (console) against the disclosure duties' due days
    own_disclosure: Tally = field(default_factory=Tally)

    @property
    def ranked(self) -> bool:
        return not self.flags

    @property
    def flag_labels(self) -> list[str]:
        return [FLAG_LABELS[f] for f in self.flags]

    @property
    def change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, 1)


def finish(card: Card, config: ScorecardConfig, days: float, estates: bool = True) -> Card:
    """Components, score and flags of the card and (when `estates`) of each of its estates."""
    card.components = components(card.kind, card.overall, config, days)
    card.score = composite(card.components)
    card.flags = flags(card.overall, card.score, config)
    for row in card.estates if estates else ():
        row.components = components(card.kind, row.part, config, days)
        row.score = composite(row.components)
        row.flags = flags(row.part, row.score, config)
    return card


def rank(cards: list[Card]) -> list[Card]:
    """Ranked cards first (score high to low; equal scores share a rank: 1, 2, 2, 4), then the flagged ones
    (not ranked), each group by name."""
    ranked = sorted((c for c in cards if c.ranked), key=lambda c: (-(c.score or 0), c.subject_name))
    previous, position = None, 0
    for n, card in enumerate(ranked, 1):
        if card.score != previous:
            position, previous = n, card.score
        card.rank, card.ranked_of = position, len(ranked)
    rest = sorted((c for c in cards if not c.ranked), key=lambda c: c.subject_name)
    for card in rest:
        card.rank, card.ranked_of = None, len(ranked)
    return ranked + rest


def figures_dict(f: Figures) -> dict:
    out = {name.name: getattr(f, name.name) for name in fields(f) if name.name != "settled"}
    out.update(settled=dict(f.settled), response_rate=f.response_rate, resolution_rate=f.resolution_rate,
               on_time_rate=f.on_time_rate, satisfaction_rate=f.satisfaction_rate)
    return out


def part_dict(part: Part) -> dict:
    """JSON-ready figures of a part (rates as 0–1 fractions for surveys and disclosures, like the surveys API;
    ticket rates as percentages with one decimal, like the tickets API)."""
    s, t = part.survey, part.tickets
    per_thousand = part.per_thousand()
    return {
        "households": part.households,
        "survey": {"respondents": s.respondents, "eligible": s.eligible, "participation": s.participation,
                   **s.scores.as_dict(),
                   "questions": [{"title": k} | v.as_dict() for k, v in s.questions.items()]},
        "tickets": {**figures_dict(t.figures), "escalated": t.escalated,
                    "escalated_share": None if t.escalated_share is None else round(t.escalated_share, 4),
                    "per_thousand_households": None if per_thousand is None else round(per_thousand, 2)},
        "disclosure": None if part.disclosure is None else part.disclosure.as_dict(),
    }


def component_dict(c: Component) -> dict:
    return {"key": c.key, "label": c.label, "value": c.value, "weight": c.weight, "used": c.used, "note": c.note}
