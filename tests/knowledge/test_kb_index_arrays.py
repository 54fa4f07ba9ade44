"""The matcher's array layout of postings (knowledge.index.Ragged / Postings, matcher.PhraseLayout) gives the same
sums as walking the postings one by one."""
from __future__ import annotations

import random

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.index import BM25Index, Postings, Ragged, add_common


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


def test_common_terms_are_dense_rows_of_their_postings():
    rng = random.Random(11)
    docs = [[rng.choice("abcdefgh") for _ in range(rng.randint(1, 6))] + [f"rare{i}"] for i in range(200)]
    index = BM25Index(docs)
    assert index.common and not any(t.startswith("rare") for t in index.common)
    for term, row in index.common.items():
        postings = index.postings_of(term)
        assert len(postings) > index.common_df
        assert [(d, w) for d, w in enumerate(row.tolist()) if w] == postings
    assert index.postings_of("rare3") == [(3, index.doc_terms[3]["rare3"])]
    assert index.postings_of("unknown") == []


def test_add_common_is_the_loop_over_terms_to_the_last_bit():
    """The candidates' scores plus the common terms' weights, term after term: exactly what a loop adding each
    present weight in turn gives (the answers must not change with the layout)."""
    rng = random.Random(5)
    n = 300
    rows = []
    for _ in range(12):
        row = np.zeros(n)
        for d in rng.sample(range(n), 120):
            row[d] = rng.random() * 7
        rows.append((row, rng.choice([1.0, 0.5, 0.4, 0.3, 2.0])))
    docs = np.array(sorted(rng.sample(range(n), 64)), dtype=np.intp)
    first = np.array([rng.random() * 40 for _ in docs])
    expected = first.tolist()
    for row, weight in rows:
        for i, d in enumerate(docs.tolist()):
            if row[d]:
                expected[i] += weight * float(row[d])
    assert add_common(first, docs, rows).tolist() == expected
