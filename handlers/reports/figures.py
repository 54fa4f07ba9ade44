"""The monthly report's shape, as plain values: a `Metric` (this month, last month, the change and its arrow),
the sections (tickets, meetings, disclosures, surveys, residents, questions), the per-community rows a street or
district report ranks, and the ranking itself. Pure: `build.py` fills them from the features' own figures.

Rates are percentages with one decimal, as the ticket figures give them (`stats.Figures`); survey and disclosure
fractions (0–1, as `tally` and `disclosures.Tally` give them) are turned into percentages here, once, by `pct`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.scorecards.disclosures import Tally
from handlers.scorecards.periods import Period
from handlers.surveys.tally import Scores, ratio
from handlers.tickets.partner_times import PartnerFigures
from handlers.tickets.stats import Figures

ARROWS = {1: "↑", -1: "↓", 0: "→"}


def pct(fraction: float | None) -> float | None:
    """A 0–1 fraction as a percentage with one decimal (None stays None)."""
    return None if fraction is None else round(fraction * 100, 1)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str = ""  # "%", "件", "次", "人", "小时", "天"
    better: int = 1  # 1: higher is better, -1: lower is better, 0: neither

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def arrow(self) -> str:
        change = self.change
        if change is None:
            return ""
        return ARROWS[(change > 0) - (change < 0)]

    @property
    def tone(self) -> str:
        """good / bad / flat / "" — for the arrow's colour."""
        change = self.change
        if change is None or self.better == 0:
            return ""
        if change == 0:
            return "flat"
        return "good" if (change > 0) == (self.better > 0) else "bad"

    def text(self, value: float | None = None) -> str:
        v = self.value if value is None else value
        if v is None:
            return "—"
        if self.unit == "%":
            return f"{v:.1f}%"
        number = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
        return number + self.unit

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "—"
        unit = "个百分点" if self.unit == "%" else self.unit
        number = f"{abs(change):,.0f}" if float(change).is_integer() else f"{abs(change):,.1f}"
        return f"{self.arrow} {number}{unit}" if change else "→ 持平"

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "value": self.value, "previous": self.previous,
                "change": self.change, "arrow": self.arrow, "unit": self.unit, "better": self.better}


@dataclass
class CommunityRow:
    """One community's figures (this month), for the ranking of a street's or district's communities."""

    id: int
    name: str
    tickets: Figures = field(default_factory=Figures)
    meetings: int = 0
    minutes: int = 0
    disclosure: Tally = field(default_factory=Tally)
    households: int = 0
    bound: int = 0
    respondents: int = 0
    survey_households: int = 0
    scores: Scores = field(default_factory=Scores)
    questions: int = 0
    answered: int = 0

    def value(self, key: str) -> float | None:
        f = self.tickets
        return {
            "received": f.received, "response_rate": f.response_rate, "resolution_rate": f.resolution_rate,
            "satisfaction_rate": f.satisfaction_rate, "community_share": f.community_share, "overdue": f.overdue,
            "meetings": self.meetings, "disclosure_on_time": pct(self.disclosure.on_time_rate),
            "binding": pct(ratio(self.bound, self.households)),
            "survey_coverage": pct(ratio(self.respondents, self.survey_households)),
            "survey_satisfaction": pct(self.scores.satisfaction),
            "answer_share": pct(ratio(self.answered, self.questions)),
        }[key]


# (key, label, unit, better) of the figures communities are ranked on
RANKED = [("received", "受理投诉", "件", 0), ("response_rate", "响应率", "%", 1), ("resolution_rate", "解决率", "%", 1),
          ("satisfaction_rate", "投诉满意率", "%", 1), ("community_share", "不出社区率", "%", 1),
          ("overdue", "超期工单", "件", -1), ("meetings", "联席会议", "次", 1),
          ("disclosure_on_time", "公示按时率", "%", 1), ("binding", "居民绑定率", "%", 1),
          ("survey_coverage", "调查参与率（按户数）", "%", 1), ("survey_satisfaction", "调查满意率", "%", 1),
          ("answer_share", "政策问答自动解答率", "%", 1)]


@dataclass(frozen=True)
class Ranking:
    key: str
    label: str
    unit: str
    better: int
    rows: list[tuple[int | None, str, float | None]]  # (rank, community, value); no value: last, no rank


def rank(rows: list[CommunityRow], key: str, label: str, unit: str, better: int) -> Ranking:
    """Communities ordered on one figure (best first; for neutral figures, largest first), equal values sharing
    a rank (1, 2, 2, 4); communities without a value come last, unranked."""
    valued = [(r.name, r.value(key)) for r in rows]
    have = sorted((x for x in valued if x[1] is not None), key=lambda x: (-(x[1]) if better >= 0 else x[1], x[0]))
    out: list[tuple[int | None, str, float | None]] = []
    previous, position = None, 0
    for n, (name, value) in enumerate(have, 1):
        if value != previous:
            position, previous = n, value
        out.append((position, name, value))
    out += [(None, name, None) for name, value in sorted(valued) if value is None]
    return Ranking(key, label, unit, better, out)


@dataclass
class Campaign:
    id: int
    title: str
    subject: str
    subject_type: str
    respondents: int
    eligible: int
    households: int
    scores: Scores

    @property
    def participation(self) -> float | None:
        """Respondents among the eligible at closing (the surveys' participation rate), %."""
        return pct(ratio(self.respondents, self.eligible))

    @property
    def coverage(self) -> float | None:
        """Respondents among all the households of the covered estates in the report's area, %."""
        return pct(ratio(self.respondents, self.households))


@dataclass
class Report:
    place: Any  # scope.Place
    period: Period
    now: datetime
    headline: list[Metric]
    tickets: Figures
    tickets_before: Figures
    by_channel: list[tuple[str, Figures]]
    by_category: list[tuple[str, Figures]]
    by_company: list[tuple[str, Figures]]
    by_partner: list[tuple[str, str, PartnerFigures]]  # (kind label, organisation, figures): tickets 交办 in the month
    trend: list[tuple[str, Figures]]  # (month label, figures), oldest first
    communities: list[CommunityRow]
    disclosure: Tally
    disclosure_by_category: list[tuple[str, Tally]]
    campaigns: list[Campaign]
    satisfaction_by_subject: list[tuple[str, str, Scores, int]]  # (kind label, name, scores, respondents)
    questions: dict
    rankings: list[Ranking]

    @property
    def title(self) -> str:
        return f"{self.place.name}{self.period.label}工作月报"

    def metric(self, key: str) -> Metric:
        return next(m for m in self.headline if m.key == key)

    @property
    def no_meeting(self) -> list[str]:
        return [c.name for c in self.communities if c.meetings == 0]
