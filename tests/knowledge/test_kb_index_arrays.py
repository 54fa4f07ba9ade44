"""The matcher's array layout of postings (knowledge.index.Ragged / Postings, matcher.PhraseLayout) gives the same
sums as walking the postings one by one."""
from __future__ import annotations

import random

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.index import BM25Index, Postings, Ragged


def test_ragged_gather_returns_rows_in_the_order_asked_with_their_owner():
    layout = Ragged.of_lengths([2, 0, 3, 1])  # rows: [0, 1], [], [2, 3, 4], [5]
    positions, owner = layout.gather(np.array([2, 1, 0, 3]))
    assert positions.tolist() == [2, 3, 4, 0, 1, 5]
    assert owner.tolist() == [0, 0, 0, 2, 2, 3]


def test_postings_totals_equal_the_sum_over_each_posting():
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(40)]
    docs = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 12))] for _ in range(30)]
    first = BM25Index(docs)
    second = BM25Index([list(reversed(d)) + ["x"] for d in docs])
    postings = Postings([first, second])
    for _ in range(20):
        terms = set(rng.sample(vocabulary, 6))
        rows: list[int] = []
        weights: list[float] = []
        common: list = []
        first.collect(terms, 1.0, postings.base[id(first)], rows, weights, common)
        second.collect(terms | {"x"}, 0.5, postings.base[id(second)], rows, weights, common)
        assert not common  # 30 documents: no term is common
        expected = first.score(terms)
        second.score(terms | {"x"}, expected, 0.5)
        totals = postings.totals(rows, weights, len(docs))
        assert totals.tolist() == pytest.approx([expected.get(d, 0.0) for d in range(len(docs))])


def test_best_phrasing_equals_the_loop_over_phrasings():
    matcher = KnowledgeBase.load().matcher
    entries = list(range(0, len(matcher.entries), 5))
    for question in ("物业费交了不开发票怎么办", "业委会 多久 开会", "电梯坏了找谁修"):
        analysis = matcher.analyzer.analyze(question)
        terms = set(analysis.tokens) | set(analysis.grams)
        expected = [max((sum(w for t, w in matcher.phrase_terms[pid].items() if t in terms)
                         for pid in matcher.entry_phrases[d]), default=0.0) for d in entries]
        assert matcher.phrase_layout.best(entries, terms) == pytest.approx(expected)
