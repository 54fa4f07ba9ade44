"""An inverted BM25 index built once, with per-posting weights precomputed.

Scoring a query touches only the postings of its terms: for each distinct query term, add the term's
precomputed BM25 weight to each document that contains it. Nothing is computed per document per question.
"""
from __future__ import annotations

import math
from collections import Counter


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
        self.postings = postings
        # Terms found in many documents: scored by look-up on a short list of candidates instead of by
        # walking their long posting lists (see Matcher.rank).
        self.common_df = max(64, int(0.04 * n))
        self.common: dict[str, dict[int, float]] = {
            t: dict(p) for t, p in postings.items() if len(p) > self.common_df
        }

    def __len__(self) -> int:
        return self.n_docs

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.oov_idf)

    def score(self, terms, scores: dict[int, float] | None = None, weight: float = 1.0) -> dict[int, float]:
        """Accumulate weight × BM25 of the distinct `terms` into `scores` (doc id → score)."""
        if scores is None:
            scores = {}
        get = scores.get
        for term in set(terms):
            for doc_id, w in self.postings.get(term, ()):
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
