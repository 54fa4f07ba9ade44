"""Word associations learned from paraphrases (a translation-style model) and the re-ordering they give.

The title and example questions of one entry are paraphrases of each other: the words one phrasing has and
another lacks are likely to stand for each other in a resident's question (故障 ~ 坏, 申请 ~ 使用).
`AssociationTable.learn` counts, over every entry, each ordered pair (word t of one phrasing, word w of another
phrasing of the same entry), each target phrasing sharing one unit among its words, and normalises the counts into
P(w | t) (Xue, Jeon & Croft 2008, "Retrieval models for question and answer archives", without EM). With
`substitutions_only`, words both phrasings share are left out of the pair (they are the topic, not a rewording);
with `use_answers`, the answer's words are targets too (at `answer_share` of a phrasing's weight).

The shipped domain table (tables/associations.json) is learned that way by bench/kb_assoc_build.py from the entry
files of four knowledge bases (never from any question set); every knowledge base uses it.

`EntryAssociations.score(analysis, doc_id)` is what an entry gets for the question words it does not contain:
for each such word w, its idf in the knowledge base × s / (s + SATURATION), where s = Σ_t P(t | entry) P(w | t)
over the entry's words t (P(t | entry) proportional to t's BM25 weight in the entry). `reorder` sorts the word
ranking's best candidates by lexical score + weight × that score, and keeps the lexical scores. Per question it
touches only those candidates' words, through a reverse table (w → {t: P(w | t)}) built once; `scores` looks the
question's words up in it once for all the candidates.
"""
from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

# The domain table shipped with the code: learned by bench/kb_assoc_build.py from the entry files (kb/) of the
# fitting knowledge bases (bundled, terse, faq, civil), never from any question set.
DOMAIN_TABLE = Path(__file__).with_name("tables") / "associations.json"

SATURATION = 0.02     # an association strength s scores s / (s + SATURATION) of the word's idf
MIN_PROB = 0.01       # weaker associations are dropped
PER_WORD = 40         # at most this many associations kept per source word


class AssociationTable:
    """P(w | t) for pairs of different words, learned from groups of paraphrases."""

    def __init__(self, table: dict[str, dict[str, float]]):
        self.table = table
        reverse: dict[str, dict[str, float]] = defaultdict(dict)
        for t, targets in table.items():
            for w, p in targets.items():
                reverse[w][t] = p
        self.reverse: dict[str, dict[str, float]] = dict(reverse)

    def to_json(self) -> str:
        rows = {t: {w: round(p, 3) for w, p in sorted(ws.items())} for t, ws in sorted(self.table.items())}
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "AssociationTable":
        return cls({t: {w: float(p) for w, p in ws.items()} for t, ws in json.loads(text).items()})

    @classmethod
    def learn(cls, groups: Iterable[tuple[Sequence[Sequence[str]], Sequence[str]]], use_answers: bool = False,
              answer_share: float = 0.5, substitutions_only: bool = False) -> "AssociationTable":
        """`groups`: per entry, (the token lists of its phrasings, the tokens of its answer)."""
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        mass: dict[str, float] = defaultdict(float)
        for phrasings, answer in groups:
            sets = [set(p) for p in phrasings if p]
            targets = [(s, 1.0) for s in sets]
            if use_answers and answer:
                targets.append((set(answer), answer_share))
            for i, source in enumerate(sets):
                for j, (target, share) in enumerate(targets):
                    if i == j:
                        continue
                    if substitutions_only:  # words both phrasings share are anchors, not paraphrases
                        src, tgt = source - target, target - source
                    else:
                        src, tgt = source, target
                    if not tgt:
                        continue
                    unit = share / len(tgt)
                    for t in src:
                        mass[t] += share
                        row = counts[t]
                        for w in tgt:
                            if w != t:
                                row[w] += unit
        table: dict[str, dict[str, float]] = {}
        for t, row in counts.items():
            total = mass[t]
            kept = sorted(((c / total, w) for w, c in row.items() if c / total >= MIN_PROB), reverse=True)[:PER_WORD]
            if kept:
                table[t] = {w: p for p, w in kept}
        return cls(table)


@lru_cache(maxsize=1)
def domain_table() -> AssociationTable:
    """The shipped domain table (read once per process)."""
    return AssociationTable.from_json(DOMAIN_TABLE.read_text(encoding="utf-8"))


def entry_groups(entries, analyzer) -> list[tuple[list[list[str]], list[str]]]:
    """Per entry, (its phrasings' tokens, its answer's tokens): what AssociationTable.learn reads."""
    out = []
    for e in entries:
        out.append(([list(analyzer.analyze(p).tokens) for p in e.phrasings()], list(analyzer.analyze(e.answer).tokens)))
    return out


class EntryAssociations:
    """Scores entries for the question words they lack, through an AssociationTable (see the module docstring)."""

    def __init__(self, table: AssociationTable, matcher, saturation: float = SATURATION) -> None:
        self.saturation = saturation
        self.reverse = table.reverse
        self.words = matcher.words   # the matcher's word field: each entry's terms and BM25 weights, and idf
        self.totals = [sum(d.values()) or 1.0 for d in self.words.doc_terms]

    def reorder(self, analysis, scores: dict[int, float], k: int, weight: float) -> list[tuple[float, int]]:
        """The k best (lexical score, entry number) pairs of `scores`: first the best by lexical score + weight ×
        the association score, second the best of the others by lexical score, then the others by the sum.

        The scores stay the lexical ones and the second entry is always the first one's strongest lexical
        competitor, so the gate's features (margin, lead, rel) keep their meaning: an entry moved ahead by
        associations alone leads by a negative margin (the menu, never a confident answer), and no
        association can widen the best entry's lead by pushing its runner-up down the list."""
        if not scores:
            return []
        extra = self.scores(analysis, list(scores))
        fused = sorted(((s + weight * x, s, d) for (d, s), x in zip(scores.items(), extra)), reverse=True)
        first = fused[0]
        rest = fused[1:]
        if not rest:
            return [(first[1], first[2])]
        runner = max(range(len(rest)), key=lambda i: (rest[i][1], rest[i][2]))
        ordered = [first, rest[runner], *rest[:runner], *rest[runner + 1:]]
        return [(s, d) for _, s, d in ordered[:k]]

    def score(self, analysis, doc_id: int) -> float:
        return self.scores(analysis, [doc_id])[0]

    def scores(self, analysis, docs: list[int]) -> list[float]:
        """The association score of each of `docs` for the question (see the module docstring)."""
        term_idf = self.words.term_idf
        # the question's words that have associations: looked up once, not once per candidate
        asked = [(w, sources, term_idf(w)) for w in set(analysis.tokens) if (sources := self.reverse.get(w))]
        if not asked:
            return [0.0] * len(docs)
        return [self._score(asked, doc_id) for doc_id in docs]

    def _score(self, asked: list[tuple[str, dict[str, float], float]], doc_id: int) -> float:
        present = self.words.doc_terms[doc_id]
        out = 0.0
        for w, sources, idf in asked:
            if w in present:
                continue
            # s: Σ over the entry's words t associated with w of P(w | t) × t's weight in the entry, the words
            # shared found by walking the smaller of the two tables (in its order) through the larger one
            small, large = (sources, present) if len(sources) < len(present) else (present, sources)
            s = 0.0
            for t in filter(large.__contains__, small):
                s += sources[t] * present[t]
            if s:
                s /= self.totals[doc_id]
                out += idf * s / (s + self.saturation)
        return out
