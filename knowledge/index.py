"""An inverted BM25 index built once, with per-posting weights precomputed.

Scoring a query touches only the postings of its terms: for each distinct query term, add the term's
precomputed BM25 weight to each document that contains it. Nothing is computed per document per question.

The postings are laid out as flat arrays (`Ragged`: one row per term, compressed-sparse-row style) so that the
matcher gathers all of a question's postings with a few numpy operations instead of a Python loop per posting
(`postings_of` gives one term's as a list). Terms found in many documents (`common`) are also kept as dense rows of
their weight in every document (0 where absent), so that a short list of candidates is scored by indexing (see
`add_common` and Matcher.rank).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

import numpy as np


class Ragged:
    """Rows of different lengths stored end to end in flat arrays kept by the owner: row r is the slice
    `indptr[r]:indptr[r + 1]` of each of them (compressed-sparse-row style)."""

    def __init__(self, indptr: np.ndarray):
        self.indptr = indptr
        self.sizes = np.diff(indptr)  # each row's length

    @classmethod
    def of_lengths(cls, lengths: Iterable[int]) -> "Ragged":
        sizes = np.fromiter(lengths, dtype=np.intp)
        indptr = np.zeros(sizes.size + 1, dtype=np.intp)
        np.cumsum(sizes, out=indptr[1:])
        return cls(indptr)

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For the given row numbers: the positions of all their values (row after row, in the order given),
        and for each position which of `rows` (0 … len(rows) - 1) it belongs to."""
        starts = self.indptr[rows]
        lengths = self.sizes[rows]
        # (the array methods rather than np.repeat / np.cumsum: those wrap them in a Python call each)
        owner = np.arange(rows.size).repeat(lengths)
        before = lengths.cumsum() - lengths  # where each row's values begin in the output
        return np.arange(owner.size) + (starts - before)[owner], owner


class BM25Index:
    """BM25 (Robertson/Sparck Jones idf, saturating tf, length normalisation) over term lists."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75, keep_terms: bool = True):
        """`keep_terms`: remember each document's terms and their weights (doc_terms), for coverage and
        self-retrieval look-ups."""
        self.k1, self.b = k1, b
        self.n_docs = len(docs)
        lengths = [len(d) for d in docs]
        avg = (sum(lengths) / len(lengths)) if lengths else 1.0
        avg = avg or 1.0
        df: Counter[str] = Counter()
        counts = [Counter(d) for d in docs]
        for c in counts:
            df.update(c.keys())
        n = self.n_docs
        log = math.log
        idf: dict[str, float] = {t: log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.idf = idf
        # The weight a term would have if it occurred in no document: used for unknown query terms.
        self.oov_idf = math.log(1.0 + (n + 0.5) / 0.5)
        postings: dict[str, list[tuple[int, float]]] = {}
        get = postings.get
        k1p1 = k1 + 1.0
        base, slope = k1 * (1.0 - b), k1 * b / avg
        self.doc_terms: list[dict[str, float]] = []
        for doc_id, c in enumerate(counts):
            norm = base + slope * lengths[doc_id]
            weights: dict[str, float] = {}
            if keep_terms:
                self.doc_terms.append(weights)
            for term, tf in c.items():
                posting = (doc_id, idf[term] * tf * k1p1 / (tf + norm))
                weights[term] = posting[1]
                plist = get(term)
                if plist is None:
                    postings[term] = [posting]
                else:
                    plist.append(posting)
        # The postings as flat arrays, a row per term (`row_of`), documents ascending: what Matcher.rank gathers.
        self.row_of: dict[str, int] = {t: r for r, t in enumerate(postings)}
        self.rows = Ragged.of_lengths(len(p) for p in postings.values())
        size = int(self.rows.indptr[-1])
        self.flat_docs = np.fromiter((d for p in postings.values() for d, _ in p), dtype=np.intp, count=size)
        self.flat_weights = np.fromiter((w for p in postings.values() for _, w in p), dtype=np.float64, count=size)
        # Terms found in many documents: scored by look-up on a short list of candidates instead of by walking their
        # long posting lists (see Matcher.rank), each as a dense row of its weight per document (0.0: absent).
        self.common_df = max(64, int(0.04 * n))
        frequent = [t for t, p in postings.items() if len(p) > self.common_df]
        dense = np.zeros((len(frequent), n), dtype=np.float64)
        self.common: dict[str, np.ndarray] = {}
        for i, term in enumerate(frequent):
            lo, hi = self._span(term)
            dense[i, self.flat_docs[lo:hi]] = self.flat_weights[lo:hi]
            self.common[term] = dense[i]

    def __len__(self) -> int:
        return self.n_docs

    def collect(self, terms, weight: float, base: int, rows: list[int], row_weights: list[float],
                common: list[tuple[np.ndarray, float]]) -> None:
        """Note the postings rows (numbered from `base`) of the distinct `terms`, each with `weight`; common
        terms (see `common`) go to `common` as (their dense row of weights by document, weight) instead."""
        row_of, frequent = self.row_of, self.common
        for term in terms:
            c = frequent.get(term)
            if c is not None:
                common.append((c, weight))
                continue
            r = row_of.get(term)
            if r is not None:
                rows.append(base + r)
                row_weights.append(weight)

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.oov_idf)

    def _span(self, term: str) -> tuple[int, int]:
        r = self.row_of[term]
        return int(self.rows.indptr[r]), int(self.rows.indptr[r + 1])

    def postings_of(self, term: str) -> list[tuple[int, float]]:
        """(document, BM25 weight) of each document containing `term`, documents ascending."""
        if term not in self.row_of:
            return []
        lo, hi = self._span(term)
        return list(zip(self.flat_docs[lo:hi].tolist(), self.flat_weights[lo:hi].tolist()))

    def score(self, terms, scores: dict[int, float] | None = None, weight: float = 1.0) -> dict[int, float]:
        """Accumulate weight × BM25 of the distinct `terms` into `scores` (doc id → score)."""
        if scores is None:
            scores = {}
        get = scores.get
        for term in set(terms):
            for doc_id, w in self.postings_of(term):
                scores[doc_id] = get(doc_id, 0.0) + weight * w
        return scores

    def coverage(self, terms, doc_id: int) -> float:
        """Share of the query's idf mass (unknown terms counted at full weight) found in the document."""
        distinct = set(terms)
        if not distinct:
            return 0.0
        total = sum(self.term_idf(t) for t in distinct)
        present = self.doc_terms[doc_id]
        hit = sum(self.term_idf(t) for t in distinct if t in present)
        return hit / total if total else 0.0


class Postings:
    """The postings of several indexes (the matcher's fields) end to end, so that one question's postings over
    all fields are gathered and summed per document in one pass: `base[i]` is index i's first row."""

    def __init__(self, indexes: list[BM25Index]):
        self.base: dict[int, int] = {}
        indptr = [np.zeros(1, dtype=np.intp)]
        docs, weights = [], []
        rows = end = 0
        for index in indexes:
            self.base[id(index)] = rows
            indptr.append(index.rows.indptr[1:] + end)
            docs.append(index.flat_docs)
            weights.append(index.flat_weights)
            rows += len(index.row_of)
            end += index.flat_docs.size
        self.layout = Ragged(np.concatenate(indptr))
        self.docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.intp)
        self.weights = np.concatenate(weights) if weights else np.zeros(0, dtype=np.float64)

    def totals(self, rows: list[int], row_weights: list[float], n_docs: int) -> np.ndarray:
        """Per document, the sum over `rows` of row weight × the row's posting weight for that document."""
        positions, owner = self.layout.gather(np.asarray(rows, dtype=np.intp))
        scale = np.asarray(row_weights, dtype=np.float64)[owner]
        return np.bincount(self.docs[positions], self.weights[positions] * scale, minlength=n_docs)


def add_common(scores: np.ndarray, docs: np.ndarray, common: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """`scores` (of the documents `docs`) plus, term after term, weight × the common term's weight in each document.

    The terms are added one after the other in the order given (a cumulative sum down the rows), as a loop over them
    would: the same floating-point sums, in one pass."""
    steps = np.empty((len(common) + 1, docs.size), dtype=np.float64)
    steps[0] = scores
    for i, (row, weight) in enumerate(common, start=1):
        np.multiply(row[docs], weight, out=steps[i])
    return steps.cumsum(axis=0)[-1]
