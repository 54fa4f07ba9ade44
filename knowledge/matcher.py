"""Ranking entries for a question and deciding between answer, ambiguous and none.

Each entry is indexed in three BM25 fields, all built once at load from its title, questions and
keywords (keywords counted twice), after normalisation, typo correction and synonym canonicalisation:
  * words: jieba tokens;
  * sounds: bigrams of fuzzy pinyin, which catch homophone typos and words that jieba splits
    differently on the two sides;
  * chars: single characters of the tokens, which give partial credit to words that differ in
    length (涨 ~ 涨价, 办公 ~ 办公用房).
The score is words + gram_weight × sounds + char_weight × chars. A fourth field holds each entry's
question intents (knowledge.intent: 怎么/在哪/谁/多久/多少/是什么/怎么办/能不能, read from its title
and questions); the best candidates of a question that has intents get intent_weight × the BM25 weight
of each shared intent, so entries of one topic are told apart by what is asked about it. Intents never
create a candidate and do not count towards coverage.

The outcome uses two signals of the best entry: its coverage (the share of the question's idf mass,
words and pinyin bigrams averaged, that the entry contains, with words no entry contains counted at a
reduced weight; a question about something the knowledge base never mentions scores low however well
its common words match) and its margin over the runner-up.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from .analyzer import Analysis, Analyzer
from .index import BM25Index
from .model import Answer, Entry, Match


@dataclass(frozen=True)
class MatchPolicy:
    """Tunable constants of scoring and of the answer/ambiguous/none decision (tuned on the dev split)."""

    gram_weight: float = 0.5        # weight of the pinyin-bigram field against the word field
    char_weight: float = 0.4        # weight of the single-character field
    keyword_repeat: int = 2         # keywords count this many times in an entry's document
    intent_weight: float = 3.0      # weight of the intent field (question words: 怎么/多久/谁/多少…)
    k1: float = 1.2
    b: float = 0.6
    oov_factor: float = 0.5         # weight of a question word no entry contains, relative to the max idf
    none_coverage: float = 0.30     # below: no match
    answer_coverage: float = 0.45   # at or above (with margin): confident answer
    answer_margin: float = 0.10     # (best - second) / best needed for a confident answer
    min_score: float = 1.0          # a best score below this is no match
    candidates: int = 64            # entries rescored with common terms (large knowledge bases)


class Matcher:
    def __init__(self, entries: list[Entry], analyzer: Analyzer, policy: MatchPolicy | None = None):
        self.entries = entries
        self.analyzer = analyzer
        self.policy = p = policy or MatchPolicy()
        cache: dict[str, Analysis] = {}  # keywords and shared phrasings repeat across entries
        token_docs: list[list[str]] = []
        gram_docs: list[list[str]] = []
        intent_docs: list[list[str]] = []
        for entry in entries:
            tokens: list[str] = []
            grams: list[str] = []
            labels: set[str] = set()
            phrasings = entry.phrasings()
            for i, part in enumerate([*phrasings, *(list(entry.keywords) * p.keyword_repeat)]):
                a = cache.get(part)
                if a is None:
                    a = cache[part] = analyzer.analyze(part)
                tokens.extend(a.tokens)
                grams.extend(a.grams)
                if i < len(phrasings):
                    labels.update(a.intents)
            token_docs.append(tokens)
            gram_docs.append(grams)
            intent_docs.append(sorted(labels))
        self.words = BM25Index(token_docs, k1=p.k1, b=p.b)
        self.grams = BM25Index(gram_docs, k1=p.k1, b=p.b)
        self.chars = BM25Index([_chars(d) for d in token_docs], k1=p.k1, b=p.b)
        # Intents are a bonus on entries that already match the question's words, never a match by themselves.
        self.intents = BM25Index(intent_docs, k1=p.k1, b=p.b)

    def _fields(self, analysis: Analysis):
        p = self.policy
        yield self.words, set(analysis.tokens), 1.0
        if p.gram_weight:
            yield self.grams, set(analysis.grams), p.gram_weight
        if p.char_weight:
            yield self.chars, set(_chars(analysis.tokens)), p.char_weight

    def rank(self, analysis: Analysis, k: int) -> list[tuple[float, int]]:
        """The k best (score, entry number) pairs.

        Rare terms are accumulated over their posting lists. Common terms (in more than ~4% of the
        entries, only relevant for large knowledge bases) are then added by look-up to the best
        `candidates` entries of that first pass, which keeps a question's cost roughly independent of
        the knowledge base's size. A question made of common terms only is scored exhaustively.
        """
        scores: dict[int, float] = {}
        get = scores.get
        deferred: list[tuple[dict[int, float], float]] = []
        for index, terms, weight in self._fields(analysis):
            for term in terms:
                common = index.common.get(term)
                if common is not None:
                    deferred.append((common, weight))
                    continue
                for doc_id, w in index.postings.get(term, ()):
                    scores[doc_id] = get(doc_id, 0.0) + weight * w
        if deferred:
            if scores:
                pool = heapq.nlargest(self.policy.candidates, scores.items(), key=lambda kv: kv[1])
                scores = dict(pool)
                for common, weight in deferred:
                    for doc_id in scores:
                        w = common.get(doc_id)
                        if w is not None:
                            scores[doc_id] += weight * w
            else:
                for common, weight in deferred:
                    for doc_id, w in common.items():
                        scores[doc_id] = get(doc_id, 0.0) + weight * w
        if not scores:
            return []
        if analysis.intents and self.policy.intent_weight:
            # Only the best candidates can change places because of an intent: re-rank those.
            pool = heapq.nlargest(max(k, self.policy.candidates), scores.items(), key=lambda kv: kv[1])
            scores = dict(pool)
            weight = self.policy.intent_weight
            for label in analysis.intents:
                common = self.intents.common.get(label)
                postings = common.items() if common is not None else self.intents.postings.get(label, ())
                for doc_id, w in postings:
                    if doc_id in scores:
                        scores[doc_id] += weight * w
        return heapq.nlargest(k, ((s, d) for d, s in scores.items()))

    def coverage(self, analysis: Analysis, doc_id: int) -> float:
        """Share of the question's weighted words and pinyin bigrams that entry `doc_id` contains."""
        oov = self.policy.oov_factor
        words = _covered(set(analysis.tokens), self.words, doc_id, oov)
        if not analysis.grams:
            return words
        return (words + _covered(set(analysis.grams), self.grams, doc_id, oov)) / 2.0

    def ask(self, question: str, top: int = 3) -> Answer:
        top = max(1, top)
        analysis = self.analyzer.analyze(question)
        ranked = self.rank(analysis, max(top, 2))
        p = self.policy
        if not ranked or ranked[0][0] < p.min_score:
            return Answer(question, "none", [], 0.0)
        best_score, best_doc = ranked[0]
        confidence = self.coverage(analysis, best_doc)
        if confidence < p.none_coverage:
            return Answer(question, "none", [], confidence)
        matches = [Match(self.entries[d], s) for s, d in ranked[:top]]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        margin = (best_score - second) / best_score
        if confidence >= p.answer_coverage and margin >= p.answer_margin:
            return Answer(question, "answer", matches, confidence)
        return Answer(question, "ambiguous", matches, confidence)


def _covered(terms: set[str], index: BM25Index, doc_id: int, oov_factor: float) -> float:
    if not terms:
        return 0.0
    present = index.doc_terms[doc_id]
    total = hit = 0.0
    for t in terms:
        w = index.idf.get(t)
        if w is None:
            w = oov_factor * index.oov_idf
        total += w
        if t in present:
            hit += w
    return hit / total if total else 0.0


def _chars(tokens) -> list[str]:
    return [ch for tok in tokens for ch in tok]
