"""A learned reranker: reorders the matcher's best few candidates by a linear model fitted across knowledge bases.

The matcher's score adds up BM25 fields whose magnitudes depend on the knowledge base (its size, its entries'
number of example questions); the misses on knowledge bases written outside the project are mostly sibling
entries of one topic (维修资金 deposit / use / refund), which share the topic words and differ in one or two.
Here each of the best `depth` candidates of a question gets features that mean the same in any knowledge base
(`FEATURES`): each field's score divided by the best candidate's value of that field, the score divided by the
entry's self-retrieval score, the share of the question's idf mass found in the entry's title, in its best single
phrasing, in all its phrasings and in its answer, the question words this candidate has and no other candidate
has (what tells siblings apart), the words the other candidates share with the question and this one lacks, and
whether the question's intent (怎么/多久/谁/多少…) is one the entry's phrasings ask.

The model is linear, w · features, fitted pairwise (the right entry against each wrong one of the same question,
a logistic loss on the difference) by bench/kb_rerank.py on the fitting knowledge bases and validated by leaving
one knowledge base out; the coefficients are MatchPolicy.rerank_coef. The reranker only permutes the candidates it
is given: the first is the model's best, the second the first one's strongest lexical competitor (as with the
word associations, so that the gate's margin still compares the first entry with its real rival: an entry the
model moved ahead of a higher-scoring one leads by a negative margin, the menu, never a confident answer), then
the others in the model's order. Scores stay the lexical ones.

It ships off (MatchPolicy.rerank_coef = ()): fitted on three knowledge bases and measured on the fourth, it did not
rank the right entry first more often than the matcher alone (bench/kb_sets/README.md, issue 17, fourth pass):
where the matcher puts a sibling first, the right entry has less of the question on nearly every feature.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .analyzer import Analysis
    from .matcher import Matcher

FEATURES = (
    "score",          # lexical score ÷ the best candidate's
    "rel",            # lexical score ÷ the entry's self-retrieval score (clipped to 2)
    "position",       # 1 / (1 + position in the incoming order)
    "words",          # word field ÷ the best candidate's word field
    "sounds",         # pinyin-bigram field, likewise
    "chars",          # single-character field, likewise
    "bigrams",        # character-bigram field, likewise
    "phrase",         # the best single phrasing's score, likewise
    "intent",         # the question's intents the entry asks too (BM25 weight), likewise
    "intent_miss",    # the question has intents and the entry asks none of them
    "assoc",          # word-association score, likewise
    "cov_title",      # share of the question's idf mass in the title's words
    "cov_phrase",     # … in the entry's best single phrasing
    "cov_entry",      # … in all its phrasings and keywords
    "cov_answer",     # … in its answer's words
    "unique",         # … in this candidate and no other candidate
    "lacking",        # … in another candidate but not in this one
    "answer_only",    # … in its answer's words and not in its phrasings or keywords
    "answer_bigrams", # share of the question's character-bigram idf mass in its answer's character bigrams
)
REL_MAX = 2.0
OOV_FACTOR = 0.5      # a question word no entry uses weighs this share of the largest idf (as confidence does)


class Reranker:
    """Features of a question's candidates and their reordering (see the module docstring)."""

    def __init__(self, matcher: "Matcher", coef: Sequence[float], depth: int):
        self.matcher = matcher
        self.coef = np.asarray(coef, dtype=np.float64)
        self.depth = depth
        # Per entry: which intents its phrasings ask, its phrasings' words (title first) and its answer's words.
        self.entry_intents: list[set[str]] = [set() for _ in matcher.entries]
        for label, postings in matcher.intents.postings.items():
            for doc_id, _ in postings:
                self.entry_intents[doc_id].add(label)
        words: dict[str, frozenset[str]] = {}

        def words_of(text: str) -> frozenset[str]:
            found = words.get(text)
            if found is None:
                found = words[text] = frozenset(matcher.analyzer.analyze(text).tokens)
            return found

        self.phrasing_words = [[words_of(p) for p in e.phrasings()] for e in matcher.entries]
        answers = [matcher.analyzer.analyze(e.answer) for e in matcher.entries]
        self.answer_words: list[frozenset[str]] = [frozenset(a.tokens) for a in answers]
        self.answer_bigrams: list[frozenset[str]] = [frozenset(a.bigrams) for a in answers]

    def features(self, analysis: "Analysis", pool: list[tuple[float, int]]) -> np.ndarray:
        """One row of FEATURES per candidate of `pool` ((lexical score, entry number), in the incoming order)."""
        m = self.matcher
        docs = [d for _, d in pool]
        n = len(docs)
        tokens = set(analysis.tokens)
        f: dict[str, np.ndarray] = {name: np.zeros(n) for name in FEATURES}

        def relative(values) -> np.ndarray:  # ÷ the best candidate's value (0 where no candidate has any)
            v = np.asarray(values, dtype=np.float64)
            top = v.max()
            return v / top if top > 0 else v

        def field(index, terms: set[str]) -> np.ndarray:
            return relative([sum(index.doc_terms[d].get(t, 0.0) for t in terms) for d in docs])

        f["score"] = relative([s for s, _ in pool])
        f["rel"] = np.array([min(REL_MAX, s / m.self_scores[d]) for s, d in pool])
        f["position"] = 1.0 / (1.0 + np.arange(n))
        f["words"] = field(m.words, tokens)
        f["sounds"] = field(m.grams, set(analysis.grams))
        f["chars"] = field(m.chars, {ch for t in analysis.tokens for ch in t})
        if m.bigrams is not None:
            f["bigrams"] = field(m.bigrams, set(analysis.bigrams))
        if m.phrase_layout is not None:
            f["phrase"] = relative(m.phrase_layout.best(docs, tokens | set(analysis.grams)))
        intents = set(analysis.intents)
        if intents:
            shared = np.zeros(n)
            for label in intents:
                common = m.intents.common.get(label)
                postings = common if common is not None else dict(m.intents.postings.get(label, ()))
                shared += [postings.get(d, 0.0) for d in docs]
            f["intent"] = relative(shared)
            f["intent_miss"] = np.array([not (intents & self.entry_intents[d]) for d in docs], dtype=np.float64)
        if m.associations is not None:
            f["assoc"] = relative([m.associations.score(analysis, d) for d in docs])
        # Shares of the question's idf mass (a word no entry uses counts at OOV_FACTOR of the largest idf).
        floor = OOV_FACTOR * m.words.oov_idf
        weights = {t: m.words.idf.get(t, floor) for t in tokens}
        total = sum(weights.values())
        if total > 0:
            present = [m.words.doc_terms[d] for d in docs]
            owners = {t: sum(1 for p in present if t in p) for t in weights}

            def share(has) -> float:
                return sum(w for t, w in weights.items() if has(t)) / total

            for i, d in enumerate(docs):
                own, answer, phrasings = present[i], self.answer_words[d], self.phrasing_words[d]
                f["cov_title"][i] = share(phrasings[0].__contains__)
                f["cov_phrase"][i] = max(share(words.__contains__) for words in phrasings)
                f["cov_entry"][i] = share(own.__contains__)
                f["cov_answer"][i] = share(answer.__contains__)
                f["unique"][i] = share(lambda t: t in own and owners[t] == 1)
                f["lacking"][i] = share(lambda t: t not in own and owners[t] > 0)
                f["answer_only"][i] = share(lambda t: t in answer and t not in own)
        if m.bigrams is not None and analysis.bigrams:
            grams = {g: m.bigrams.idf.get(g, OOV_FACTOR * m.bigrams.oov_idf) for g in set(analysis.bigrams)}
            mass = sum(grams.values())
            f["answer_bigrams"] = np.array([sum(w for g, w in grams.items() if g in self.answer_bigrams[d]) / mass
                                            for d in docs])
        return np.column_stack([f[name] for name in FEATURES])

    def reorder(self, analysis: "Analysis", ranked: list[tuple[float, int]]) -> list[tuple[float, int]]:
        """`ranked` ((lexical score, entry number), best first) with its first `depth` reordered by the model."""
        n = min(self.depth, len(ranked))
        if n < 2:
            return ranked
        pool = ranked[:n]
        values = self.features(analysis, pool) @ self.coef
        order = sorted(range(n), key=lambda i: (-values[i], i))  # ties keep the incoming order
        first, rest = order[0], order[1:]
        runner = max(rest, key=lambda i: (pool[i][0], -i))  # the first one's strongest lexical competitor
        rest.remove(runner)
        rest.insert(0, runner)
        return [pool[first], *(pool[i] for i in rest), *ranked[n:]]


def pairwise_fit(groups: list[tuple[np.ndarray, np.ndarray, float]], l2: float = 0.01,
                 iterations: int = 50) -> np.ndarray:
    """Linear weights w maximising the weighted log-likelihood that each right candidate outscores each wrong one
    of its question, P = σ(w · (x_right − x_wrong)), with an L2 penalty, by Newton's method. `groups`: per
    question, (its candidates' features, which are right (bool), the question's weight)."""
    diffs, weights = [], []
    for x, right, weight in groups:
        good, bad = x[right], x[~right]
        if not len(good) or not len(bad):
            continue
        d = (good[:, None, :] - bad[None, :, :]).reshape(-1, x.shape[1])
        diffs.append(d)
        weights.append(np.full(len(d), weight / len(d)))
    z = np.concatenate(diffs)
    sw = np.concatenate(weights)
    total = sw.sum()
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = -(z * (sw * (1.0 - p))[:, None]).sum(axis=0) + l2 * total * w
        hess = (z * (sw * p * (1.0 - p))[:, None]).T @ z + l2 * total * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def listwise_fit(groups: list[tuple[np.ndarray, np.ndarray, float]], l2: float = 0.01,
                 iterations: int = 50) -> np.ndarray:
    """Linear weights w maximising the weighted log-likelihood of the right candidates under a softmax over
    each question's candidates (P(c) ∝ exp(w · x_c); several right ones share the target), with an L2 penalty,
    by Newton's method. `groups` as for pairwise_fit."""
    usable = [(x, right / right.sum(), weight) for x, right, weight in groups if right.any() and not right.all()]
    dim = usable[0][0].shape[1]
    total = sum(weight for _, _, weight in usable)
    w = np.zeros(dim)
    for _ in range(iterations):
        grad = l2 * total * w
        hess = l2 * total * np.eye(dim)
        for x, target, weight in usable:
            v = x @ w
            p = np.exp(v - v.max())
            p /= p.sum()
            mean = p @ x
            grad = grad + weight * (mean - target @ x)
            centred = x - mean
            hess = hess + weight * (centred * p[:, None]).T @ centred
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w
