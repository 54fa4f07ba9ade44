"""The comparison baseline: plain BM25 over default-jieba tokens of title, questions and keywords.

No normalisation, synonyms, stop words, pinyin or user dictionary. It has no notion of "no match"
beyond "no query token occurs in any entry"; it answers its top entry whenever anything matches.
"""
from __future__ import annotations

import heapq
import logging
import math
from collections import Counter

import jieba

from knowledge.model import Entry

jieba.setLogLevel(logging.WARNING)


class PlainBM25:
    def __init__(self, entries: list[Entry], k1: float = 1.2, b: float = 0.75):
        self.entries = entries
        self.tk = jieba.Tokenizer()
        self.tk.initialize()
        docs = [self._tokens(" ".join([*e.phrasings(), *e.keywords])) for e in entries]
        self.tfs = [Counter(d) for d in docs]
        self.lens = [len(d) for d in docs]
        self.avg = sum(self.lens) / len(self.lens)
        df: Counter[str] = Counter()
        for c in self.tfs:
            df.update(c.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.post: dict[str, list[int]] = {}
        for i, c in enumerate(self.tfs):
            for t in c:
                self.post.setdefault(t, []).append(i)
        self.k1, self.b = k1, b

    def _tokens(self, text: str) -> list[str]:
        return [t for t in self.tk.lcut(text) if t.strip() and any(ch.isalnum() for ch in t)]

    def rank(self, question: str, k: int = 3) -> list[tuple[float, Entry]]:
        scores: dict[int, float] = {}
        for t in set(self._tokens(question)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.post[t]:
                tf = self.tfs[i][t]
                norm = self.k1 * (1 - self.b + self.b * self.lens[i] / self.avg)
                scores[i] = scores.get(i, 0.0) + idf * tf * (self.k1 + 1) / (tf + norm)
        best = heapq.nlargest(k, ((s, i) for i, s in scores.items()))
        return [(s, self.entries[i]) for s, i in best]
