"""How sure the matcher is: the features of a question and its best entries, and two calibrated probabilities.

Relevance scores rank entries but say little about whether the best one is right, or whether the knowledge
base can answer at all. The decision uses a few features of the question and its two best entries:

  * coverage — the share of the question's idf mass (words and pinyin bigrams averaged) that the best entry
    contains; words no entry contains count at a reduced weight;
  * general_coverage — the same share over the question's words, each weighted by how informative the word
    is in general Chinese (self-information from jieba's corpus frequencies). Colloquial filler a resident
    adds (突然, 天天, 明年, 行) weighs little; a specific word the entries never mention
    weighs a lot, which is what an out-of-scope question usually brings (社保, 契税, 疫苗…);
  * anchor — the strongest domain word the question shares with the best entry: the largest keyness
    log(P_kb(w) / P_general(w)) over the shared words. 物业, 业委会, 维修资金 are anchors; 天津, 号, 修 are
    matched by the entries too but are ordinary words, and a question held only by them is rarely in scope;
  * evidence — log(1 + the general self-information of the words the question shares with the best entry):
    how much specific content matched, in units that do not depend on the knowledge base's size (raw BM25
    scores do: in a three-entry knowledge base every shared word has a tiny idf);
  * margin — (best − second) / best;
  * lead — log(best / second), clipped to LEAD_MAX: the same comparison, unbounded at the top, so "two or three
    times the second" (40 against 13) reads as far ahead whatever the knowledge base;
  * rel — the best score divided by the best entry's self-retrieval score (its own title asked of the knowledge
    base, computed at load, Matcher.self_scores), clipped to REL_MAX: how much of what this entry can score the
    question reaches. Raw scores grow with an entry's number of example questions and with the knowledge base's
    size; the ratio does not;
  * unknown — the general self-information (÷ 10) of the most informative question word that no entry uses at
    all (0 when there is none). A specific word the whole knowledge base never mentions (税, 电费, 饭店, 疫苗)
    usually names what the question is really about; colloquial filler residents add is rarely that
    informative. (Kept for diagnosis; no model uses it since issue 17: a small knowledge base leaves many of
    its residents' ordinary words unknown, so it did not carry over between knowledge bases.)

Two logistic models turn them into probabilities; the coefficients are kept in MatchPolicy:
  P(in scope)   — from coverage, general_coverage, anchor and evidence (fitted on the bundled development
                  splits): below a threshold, "none";
  P(correct)    — CORRECT_FEATURES (fitted by bench/kb_tune.py across four knowledge bases, validated by leaving
                  one knowledge base out): at or above a threshold, with P(in scope) high enough and the best
                  entry ahead of the second by the answer margin, a confident "answer"; otherwise the top three
                  are offered (the "which one?" menu: true ties and vague questions).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass

IN_SCOPE_FEATURES = ("coverage", "general_coverage", "anchor", "evidence")
CORRECT_FEATURES = ("coverage", "general_coverage", "anchor", "evidence", "margin", "lead", "rel")
REL_MAX = 2.0           # rel (best score ÷ the entry's self-retrieval score) is clipped to this
LEAD_MAX = 3.0          # lead (log of best ÷ second score) is clipped to this; the value when only one entry ranks
UNKNOWN_SCALE = 10.0    # the unknown feature is a word's self-information divided by this

ANCHOR_SCALE = 10.0     # keyness is divided by this and clipped to [ANCHOR_MIN, ANCHOR_MAX]
ANCHOR_MIN, ANCHOR_MAX = -0.5, 1.5


@dataclass(frozen=True)
class Features:
    coverage: float = 0.0
    general_coverage: float = 0.0
    anchor: float = ANCHOR_MIN
    evidence: float = 0.0
    margin: float = 0.0
    unknown: float = 0.0
    rel: float = 0.0
    lead: float = 0.0

    def vector(self, names: tuple[str, ...]) -> list[float]:
        return [getattr(self, n) for n in names]


class TermStats:
    """Word statistics of one knowledge base against general Chinese (jieba's dictionary frequencies)."""

    def __init__(self, kb_tokens: Counter, general_freq: dict[str, int], general_total: int):
        self.kb_counts = kb_tokens
        self.kb_total = max(1, sum(kb_tokens.values()))
        self.freq = general_freq
        self.total = max(1, general_total)
        self._info: dict[str, float] = {}
        self._key: dict[str, float] = {}

    def information(self, term: str) -> float:
        """Self-information of a word in general Chinese (rare words high, 的/天天/行 low)."""
        v = self._info.get(term)
        if v is None:
            v = self._info[term] = math.log(self.total / (self.freq.get(term, 0) + 1.0))
        return v

    def keyness(self, term: str) -> float:
        """log(P_kb / P_general): how much more this knowledge base uses the word than ordinary text does."""
        v = self._key.get(term)
        if v is None:
            p_kb = (self.kb_counts.get(term, 0) + 0.5) / self.kb_total
            p_gen = (self.freq.get(term, 0) + 1.0) / self.total
            v = self._key[term] = math.log(p_kb / p_gen)
        return v


def general_coverage(stats: TermStats, tokens: set[str], present: Container[str]) -> tuple[float, float]:
    """(share of the question's general information found in `present`, log(1 + that information))."""
    total = hit = 0.0
    for t in tokens:
        w = stats.information(t)
        total += w
        if t in present:
            hit += w
    return (hit / total if total else 0.0), math.log1p(hit)


def unknown(stats: TermStats, tokens: set[str], vocabulary) -> float:
    """Self-information (÷ UNKNOWN_SCALE) of the most informative token not in `vocabulary`; 0 if none."""
    best = 0.0
    for t in tokens:
        if t not in vocabulary:
            best = max(best, stats.information(t))
    return best / UNKNOWN_SCALE


def anchor(stats: TermStats, tokens: set[str], present: Container[str]) -> float:
    best = None
    for t in tokens:
        if t in present:
            k = stats.keyness(t)
            if best is None or k > best:
                best = k
    if best is None:
        return ANCHOR_MIN
    return min(ANCHOR_MAX, max(ANCHOR_MIN, best / ANCHOR_SCALE))


def probability(coef: tuple[float, ...], x: list[float]) -> float:
    """Logistic model: coef[0] is the bias, coef[1:] the weights of x."""
    z = coef[0] + sum(w * v for w, v in zip(coef[1:], x))
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))
