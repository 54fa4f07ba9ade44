"""Pure aggregation of survey answers: per question distribution, mean and satisfaction rate (share of 4–5 among
those who rated), broken down by estate and community; participation = respondents / eligible, per estate; and
rankings of subjects across campaigns of one template, with the number of responses beside each figure so that
thin samples show (`THIN`).

Rates are fractions in [0, 1] (None when nothing to divide by); callers format them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

THIN = 30  # fewer responses than this: the figure is shown but flagged 样本较少


@dataclass(frozen=True)
class Row:
    community_id: int | None
    estate_id: int | None
    answers: dict


@dataclass
class Scores:
    """Running totals of ratings: enough to pool across questions, estates and campaigns."""

    rated: int = 0
    satisfied: int = 0
    total: int = 0
    dist: list[int] = field(default_factory=lambda: [0] * 5)

    def add(self, value: int) -> None:
        self.rated += 1
        self.total += value
        self.dist[value - 1] += 1
        self.satisfied += value >= 4

    def merge(self, other: "Scores") -> None:
        self.rated += other.rated
        self.satisfied += other.satisfied
        self.total += other.total
        self.dist = [a + b for a, b in zip(self.dist, other.dist)]

    @property
    def mean(self) -> float | None:
        return self.total / self.rated if self.rated else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    def as_dict(self) -> dict:
        return {"rated": self.rated, "mean": _round(self.mean), "satisfaction": _round(self.satisfaction)}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def ratio(part: int, whole: int | None) -> float | None:
    return _round(part / whole) if whole else None


def question_stats(q: dict, rows: list[Row]) -> dict:
    """Figures for one question over `rows` (respondents who skipped it count in `skipped`)."""
    values = [r.answers.get(q["id"]) for r in rows]
    answered = [v for v in values if v is not None]
    out: dict[str, Any] = {"id": q["id"], "title": q["title"], "kind": q["kind"], "answered": len(answered),
                           "skipped": len(values) - len(answered)}
    if q["kind"] == "rating":
        scores = Scores()
        for v in answered:
            scores.add(v)
        out |= scores.as_dict() | {"distribution": [{"value": n, "label": q["labels"][n - 1], "count": c,
                                                     "share": ratio(c, scores.rated)}
                                                    for n, c in enumerate(scores.dist, 1)]}
        out["by_estate"] = _rating_by(q["id"], rows, lambda r: r.estate_id)
        out["by_community"] = _rating_by(q["id"], rows, lambda r: r.community_id)
    elif q["kind"] in ("single", "multiple"):
        counts = [0] * len(q["options"])
        for v in answered:
            for n in ([v] if q["kind"] == "single" else v):
                counts[n - 1] += 1
        out["distribution"] = [{"value": n, "label": label, "count": counts[n - 1],
                                "share": ratio(counts[n - 1], len(answered))}
                               for n, label in enumerate(q["options"], 1)]
    return out


def _rating_by(qid: str, rows: list[Row], key) -> list[dict]:
    groups: dict[Any, Scores] = defaultdict(Scores)
    for r in rows:
        v = r.answers.get(qid)
        if v is not None:
            groups[key(r)].add(v)
    return [{"id": k} | s.as_dict() for k, s in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]


def overall(questions: list[dict], rows: Iterable[Row]) -> Scores:
    """All rating answers pooled: the campaign's satisfaction rate and mean score."""
    ratings = [q["id"] for q in questions if q["kind"] == "rating"]
    scores = Scores()
    for r in rows:
        for qid in ratings:
            v = r.answers.get(qid)
            if v is not None:
                scores.add(v)
    return scores


def tally(questions: list[dict], rows: list[Row], eligible: dict[int, int],
          estate_community: dict[int, int | None]) -> dict:
    """The whole result. `eligible` maps estate key (estate id, 0 for none) → eligible residents or households;
    `estate_community` maps estate key → community id (for the community roll-up)."""
    by_estate: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        by_estate[r.estate_id or 0].append(r)
    estates = []
    for key in sorted(set(eligible) | set(by_estate)):
        group = by_estate.get(key, [])
        scores = overall(questions, group)
        estates.append({"estate_id": key or None, "community_id": estate_community.get(key),
                        "respondents": len(group), "eligible": eligible.get(key, 0),
                        "participation": ratio(len(group), eligible.get(key, 0)), **scores.as_dict()})
    communities: dict[Any, dict] = {}
    for e in estates:
        c = communities.setdefault(e["community_id"], {"community_id": e["community_id"], "respondents": 0,
                                                       "eligible": 0, "_scores": Scores()})
        c["respondents"] += e["respondents"]
        c["eligible"] += e["eligible"]
        c["_scores"].merge(overall(questions, by_estate.get(e["estate_id"] or 0, [])))
    community_list = []
    for c in communities.values():
        scores = c.pop("_scores")
        community_list.append(c | {"participation": ratio(c["respondents"], c["eligible"])} | scores.as_dict())
    total_eligible = sum(eligible.values())
    pooled = overall(questions, rows)
    return {"respondents": len(rows), "eligible": total_eligible,
            "participation": ratio(len(rows), total_eligible), **pooled.as_dict(),
            "thin": len(rows) < THIN,
            "questions": [question_stats(q, rows) for q in questions],
            "estates": estates, "communities": community_list}


@dataclass
class Standing:
    subject_type: str
    subject_id: int | None
    subject_name: str
    campaigns: int = 0
    respondents: int = 0
    scores: Scores = field(default_factory=Scores)


def rank(entries: Iterable[tuple[str, int | None, str, int, Scores]]) -> list[dict]:
    """Subjects ranked by pooled satisfaction rate (then mean, then responses) from per-campaign entries
    (subject_type, subject_id, subject_name, respondents, scores). Subjects without ratings come last."""
    standings: dict[tuple, Standing] = {}
    for subject_type, subject_id, name, respondents, scores in entries:
        key = (subject_type, subject_id if subject_id is not None else name)
        s = standings.setdefault(key, Standing(subject_type, subject_id, name))
        s.campaigns += 1
        s.respondents += respondents
        s.scores.merge(scores)
    ordered = sorted(standings.values(), key=lambda s: (s.scores.satisfaction is None, -(s.scores.satisfaction or 0),
                                                        -(s.scores.mean or 0), -s.respondents, s.subject_name))
    out = []
    for n, s in enumerate(ordered, 1):
        out.append({"rank": n if s.scores.rated else None, "subject_type": s.subject_type,
                    "subject_id": s.subject_id, "subject_name": s.subject_name, "campaigns": s.campaigns,
                    "respondents": s.respondents, "thin": s.respondents < THIN, **s.scores.as_dict()})
    return out


def by_channel(questions: list[dict], rows: Iterable[tuple[str, dict]]) -> list[dict]:
    """Respondents and pooled scores per channel (`wechat`, `paper`), from (channel, answers) pairs."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for channel, answers in rows:
        groups[channel or "wechat"].append(Row(None, None, answers))
    return [{"channel": c, "respondents": len(g), **overall(questions, g).as_dict()}
            for c, g in sorted(groups.items(), key=lambda kv: kv[0] != "wechat")]


def household_participation(respondents_by_estate: dict[int, int], households: dict[int, int]) -> dict:
    """Participation against each estate's total households (not only bound residents): per estate and over the
    estates whose household count is known."""
    per_estate = {e: ratio(respondents_by_estate.get(e, 0), n) for e, n in households.items()}
    counted = sum(respondents_by_estate.get(e, 0) for e in households)
    total = sum(households.values())
    return {"households": total, "household_respondents": counted, "household_participation": ratio(counted, total),
            "per_estate": per_estate}
