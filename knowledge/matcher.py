"""Ranking entries for a question and deciding between answer, ambiguous and none.

Each entry is indexed in BM25 fields, all built once at load from its title, questions and keywords
(keywords counted twice), after normalisation, typo correction and synonym canonicalisation:
  * words: jieba tokens;
  * sounds: bigrams of fuzzy pinyin, which catch homophone typos and words that jieba splits
    differently on the two sides;
  * chars: single characters of the tokens, which give partial credit to words that differ in
    length (涨 ~ 涨价, 办公 ~ 办公用房);
  * negated: the words a negator (不, 没有) applies to, marked (¬交, ¬业主委员会), so 不交物业费 and 小区没有
    业委会 find the entries that ask about not paying or not having one rather than about paying or having;
  * bigrams: character bigrams of the normalised phrasings, stop words included: a signal that does not
    depend on how jieba segments either side (交行, 费交), nor on which characters are stop words;
  * answer: the answer's words, at a low weight (optional, off by default: it did not help on the
    development splits), for the vocabulary only the answer uses.
A question word that no entry uses also stands, at backoff_weight, for the known words inside it (jieba cuts
物业费交行吗 into 物业费 / 交行, the bank: 交 still counts).
The score is words + gram_weight × sounds + char_weight × chars + bigram_weight × bigrams
+ negation_weight × negated (+ answer_weight × answer). The best
`rerank` entries then get two bonuses that only reorder them:
  * the best phrasing: the title and each question are also weighted as documents of their own (words
    and sounds, BM25 over all phrasings); an entry gets phrase_weight × the score of its best-matching
    phrasing, so one phrasing that says what the resident says counts for more than the same words
    scattered over several phrasings;
  * intents: each entry's question intents (knowledge.intent: 怎么/在哪/谁/多久/多少/是什么/怎么办/能不能,
    read from its title and questions) form a field; intent_weight × the BM25 weight of each intent the
    question shares, so entries of one topic are told apart by what is asked about it.
Those candidates are then reordered by word associations (knowledge.assoc, assoc_weight): a question word an entry
does not contain counts through the entry's words it is associated with (the shipped domain table, learned from
the example questions of four knowledge bases: words that reword each other across the phrasings of one entry).
The first candidate is the best by lexical score + associations, the second the strongest lexical competitor;
the scores stay the lexical ones, so the gate's features are unchanged and an entry moved ahead by associations
alone leads by a negative margin (the menu, never a confident answer).

The outcome comes from two calibrated probabilities (knowledge.confidence): P(in scope) below
`none_below` gives "none"; P(the best entry is right) at or above `answer_from`, with P(in scope) at least
`answer_in` and the best entry ahead of the second by at least `answer_margin` of its score, gives a
confident "answer" (two entries that score alike are never guessed between: a bare topic word such as 物业费
gets the list); anything between offers the top entries as a numbered list ("ambiguous").

A question that is, up to width, case, spaces and punctuation, one of the phrasings (title or example question)
of exactly one entry is answered by that entry outright: the knowledge base's own examples, which the bot
suggests to residents, are never met with a list.

A "none" still carries the top entries as suggestions when the question looks like ours after all:
P(in scope) at least `suggest_from` and the best entry shares a clearly domain-specific word with it
(anchor at least `suggest_anchor`: 物业, 投诉, 业委会, not 交, 哪, 办). Questions about other services (水费,
护照, 社保) share only ordinary words and get no suggestions.
"""
from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .analyzer import Analysis, Analyzer
from .assoc import AssociationTable, EntryAssociations, domain_table
from .confidence import (
    CORRECT_FEATURES,
    IN_SCOPE_FEATURES,
    LEAD_MAX,
    REL_MAX,
    Features,
    TermStats,
    anchor,
    general_coverage,
    probability,
    unknown,
)
from .index import BM25Index, Postings, Ragged, add_common
from .model import Answer, Entry, Match, Outcome
from .normalize import STOPWORDS

# A question is read up to this many characters: residents' questions are a sentence or two, and the analysis
# (segmentation, pinyin, typo correction) grows with the text. One signed 64 KB message used to hold the event
# loop for 20 s; with the bound, and the linear backoff below, any message costs what a long question does.
MAX_QUESTION_CHARS = 300


def bounded(question: str) -> str:
    """The part of `question` the matcher reads."""
    return question[:MAX_QUESTION_CHARS]


@dataclass(frozen=True)
class MatchPolicy:
    """Tunable constants of scoring and of the answer/ambiguous/none decision (fitted on the development splits
    by bench/kb_tune.py, thresholds chosen to answer at most 1% of their out-of-scope questions; never on the
    held-out splits)."""

    gram_weight: float = 0.5        # weight of the pinyin-bigram field against the word field
    char_weight: float = 0.4        # weight of the single-character field
    bigram_weight: float = 0.3      # weight of the character-bigram field (segmentation-independent)
    backoff_weight: float = 0.5     # weight of the known words inside a question word no entry uses (交行 → 交)
    phrase_weight: float = 0.5      # weight of the best single phrasing (words + sounds)
    answer_weight: float = 0.0      # weight of the answer-text field
    negation_weight: float = 2.0    # weight of the negated-words field (¬交 for 不交)
    assoc_weight: float = 4.0       # weight of the associated words of a question word an entry lacks (knowledge.assoc)
    keyword_repeat: int = 2         # keywords count this many times in an entry's document
    title_repeat: int = 1           # the title counts this many times in an entry's document
    intent_weight: float = 3.0      # weight of the intent field (question words: 怎么/多久/谁/多少…)
    k1: float = 1.2
    b: float = 0.6
    oov_factor: float = 0.5         # weight of a question word no entry contains, relative to the max idf
    # The gate (issue 17). P(in scope) and `none_below` are as fitted on the bundled development splits (they
    # refuse other services' questions; refitting them across knowledge bases refused fewer). P(best entry right)
    # over features that do not depend on the knowledge base's size or its entries' number of example questions
    # (margin, lead, rel: see knowledge.confidence) and the answer thresholds were fitted by `bench/kb_tune.py` on
    # four knowledge bases (the bundled one with its whole evaluation set, terse, faq, civil; each weighing the
    # same) after leave-one-knowledge-base-out validation, with at most 5% of each one's out-of-scope questions
    # answered; never on the held-out retrofit set. Refitted on the association ranking (issue 17, third pass).
    in_scope_coef: tuple[float, ...] = (-6.457, 1.352, 1.191, 1.364, 1.777)
    correct_coef: tuple[float, ...] = (-2.767, 0.787, 0.661, 0.558, 0.535, 0.382, 1.032, 0.961)
    none_below: float = 0.3         # P(in scope) below this: no match
    answer_from: float = 0.8        # P(best entry right) at or above this: confident answer
    answer_margin: float = 0.1      # and the best entry must lead the second by this share of its score (ties: menu)
    answer_in: float = 0.8          # and P(in scope) must be at least this
    min_score: float = 1.0          # a best score below this is no match
    suggest_from: float = 0.15      # a "none" with P(in scope) at least this …
    suggest_anchor: float = 0.5     # … and a shared domain word this specific (anchor) offers suggestions
    candidates: int = 64            # entries rescored with common terms (large knowledge bases)
    rerank: int = 24                # best entries that get the phrasing and intent bonuses


class Matcher:
    def __init__(self, entries: list[Entry], analyzer: Analyzer, policy: MatchPolicy | None = None,
                 associations: AssociationTable | None = None):
        """`associations`: the word-association table (knowledge.assoc); None: the shipped domain table."""
        self.entries = entries
        self.analyzer = analyzer
        self.policy = p = policy or MatchPolicy()
        cache: dict[str, Analysis] = {}  # keywords and shared phrasings repeat across entries
        letters: dict[str, str] = {}     # text → its tokens' characters, for the single-character field

        def analyze(text: str) -> Analysis:
            a = cache.get(text)
            if a is None:
                a = cache[text] = analyzer.analyze(text)
                letters[text] = "".join(a.tokens)
            return a

        token_docs: list[list[str]] = []
        char_docs: list[list[str]] = []
        gram_docs: list[list[str]] = []
        bigram_docs: list[list[str]] = []
        negated_docs: list[list[str]] = []
        intent_docs: list[list[str]] = []
        answer_docs: list[list[str]] = []
        # Phrasings are weighted once per distinct text (large knowledge bases repeat many), each counted as
        # often as it occurs for the phrasing idf and average length.
        phrase_ids: dict[str, int] = {}
        phrase_analyses: list[Analysis] = []
        phrase_counts: list[int] = []
        self.entry_phrases: list[tuple[int, ...]] = []
        kb_counts: Counter[str] = Counter()
        owners: dict[str, set[int]] = {}
        for doc_id, entry in enumerate(entries):
            for phrasing in entry.phrasings():
                owners.setdefault(phrasing_key(phrasing), set()).add(doc_id)
        # a phrasing shared by two entries answers neither outright
        self.exact: dict[str, int] = {k: next(iter(ids)) for k, ids in owners.items() if k and len(ids) == 1}
        for entry in entries:
            tokens: list[str] = []
            chars: list[str] = []
            grams: list[str] = []
            bigrams: list[str] = []
            negated: list[str] = []
            labels: set[str] = set()
            phrasings = entry.phrasings()
            pids: dict[int, None] = {}
            extra = [entry.title] * (p.title_repeat - 1) + list(entry.keywords) * p.keyword_repeat
            for i, part in enumerate([*phrasings, *extra]):
                a = analyze(part)
                tokens.extend(a.tokens)
                chars.extend(letters[part])
                grams.extend(a.grams)
                bigrams.extend(a.bigrams)
                negated.extend(a.negated)
                if i < len(phrasings):
                    labels.update(a.intents)
                    pid = phrase_ids.get(part)
                    if pid is None:
                        pid = phrase_ids[part] = len(phrase_analyses)
                        phrase_analyses.append(a)
                        phrase_counts.append(0)
                    phrase_counts[pid] += 1
                    pids[pid] = None
            self.entry_phrases.append(tuple(pids))
            token_docs.append(tokens)
            char_docs.append(chars)
            gram_docs.append(grams)
            bigram_docs.append(bigrams)
            negated_docs.append(negated)
            intent_docs.append(sorted(labels))
            answer = list(analyze(entry.answer).tokens) if p.answer_weight else []
            answer_docs.append(answer)
            kb_counts.update(tokens)
            kb_counts.update(answer)
        # Only the word and sound fields need each document's term set (coverage, confidence features).
        self.words = BM25Index(token_docs, k1=p.k1, b=p.b)
        self.grams = BM25Index(gram_docs, k1=p.k1, b=p.b)
        self.chars = BM25Index(char_docs, k1=p.k1, b=p.b)
        self.bigrams = BM25Index(bigram_docs, k1=p.k1, b=p.b) if p.bigram_weight else None
        self.negated = BM25Index(negated_docs, k1=p.k1, b=p.b, keep_terms=False)
        self.answers = BM25Index(answer_docs, k1=p.k1, b=p.b, keep_terms=False) if p.answer_weight else None
        self.phrase_terms = _phrase_weights(phrase_analyses, phrase_counts, p) if p.phrase_weight else []
        self.postings = Postings([i for i in (self.words, self.grams, self.chars, self.bigrams, self.negated,
                                              self.answers) if i is not None])
        self.phrase_layout = PhraseLayout(self.phrase_terms, self.entry_phrases) if self.phrase_terms else None
        # Intents are a bonus on entries that already match the question's words, never a match by themselves.
        self.intents = BM25Index(intent_docs, k1=p.k1, b=p.b, keep_terms=False)
        self.stats = TermStats(kb_counts, analyzer.general_freq, analyzer.general_total)
        self.associations = (EntryAssociations(associations or domain_table(), self)
                             if p.assoc_weight else None)
        self.longest_word = max((len(t) for t in self.words.idf), default=0)
        # Each entry's self-retrieval score, computed at load: what its own title scores against it (the fields
        # and the best-phrasing bonus of `rank`, by look-up in the entry's own term weights). It is what this
        # entry scores at best, in the units of this knowledge base (entries with more example questions, and
        # larger knowledge bases, score differently), so a question's score divided by it (the `rel` feature)
        # is comparable across knowledge bases.
        self.self_scores = [self._self_score(doc_id, analyze(e.title), phrase_ids.get(e.title))
                            for doc_id, e in enumerate(entries)]

    def _self_score(self, doc_id: int, a: Analysis, title_pid: int | None) -> float:
        p = self.policy
        fields = [(self.words, a.tokens, 1.0), (self.grams, a.grams, p.gram_weight),
                  (self.chars, _chars(a.tokens), p.char_weight)]
        if self.bigrams is not None:
            fields.append((self.bigrams, a.bigrams, p.bigram_weight))
        v = 0.0
        for index, terms, weight in fields:
            own = index.doc_terms[doc_id]
            v += weight * sum(own.get(t, 0.0) for t in set(terms))
        if p.phrase_weight and title_pid is not None and self.phrase_terms:
            own = self.phrase_terms[title_pid]
            v += p.phrase_weight * sum(own.get(t, 0.0) for t in set(a.tokens) | set(a.grams))
        return max(v, 1.0)

    def _fields(self, analysis: Analysis):
        p = self.policy
        yield self.words, set(analysis.tokens), 1.0
        if p.backoff_weight:
            parts = self.backoff(analysis.tokens)
            if parts:
                yield self.words, parts, p.backoff_weight
        if p.gram_weight:
            yield self.grams, set(analysis.grams), p.gram_weight
        if p.char_weight:
            yield self.chars, set(_chars(analysis.tokens)), p.char_weight
        if self.bigrams is not None:
            yield self.bigrams, set(analysis.bigrams), p.bigram_weight
        if p.negation_weight and analysis.negated:
            yield self.negated, set(analysis.negated), p.negation_weight
        if self.answers is not None:
            yield self.answers, set(analysis.tokens), p.answer_weight

    def backoff(self, tokens) -> set[str]:
        """Known words inside the question's unknown words: a token no entry uses (交行 and 交会, as jieba cuts
        物业费交行吗 and 什么时候交会好) stands for the knowledge base's words it contains (交), stop words aside."""
        vocabulary = self.words.idf
        known = set(tokens)
        out: set[str] = set()
        longest = self.longest_word  # no longer part can be a known word: linear in the token, not quadratic
        for tok in known:
            if len(tok) < 2 or tok in vocabulary:
                continue
            n = len(tok)
            for i in range(n):
                for j in range(i + 1, min(n, i + longest) + 1):
                    part = tok[i:j]
                    if j - i < n and part in vocabulary and part not in STOPWORDS:
                        out.add(part)
        return out - known

    def rank(self, analysis: Analysis, k: int) -> list[tuple[float, int]]:
        """The k best (score, entry number) pairs.

        Rare terms are accumulated over their posting lists (gathered as flat arrays, summed per entry with
        one `bincount`). Common terms (in more than ~4% of the entries, only relevant for large knowledge
        bases) are then added by look-up to the best `candidates` entries of that first pass, which keeps a
        question's cost roughly independent of the knowledge base's size. A question made of common terms
        only is scored exhaustively. The best `rerank` entries then get their best phrasing's and their
        intents' bonuses.
        """
        p = self.policy
        rows: list[int] = []
        row_weights: list[float] = []
        deferred: list[tuple[np.ndarray, float]] = []
        base = self.postings.base
        for index, terms, weight in self._fields(analysis):
            index.collect(terms, weight, base[id(index)], rows, row_weights, deferred)
        scores: dict[int, float] = {}
        if rows:
            totals = self.postings.totals(rows, row_weights, len(self.entries))
            touched = np.flatnonzero(totals)
            # Without common terms the first pass is final: keep the entries that will get the bonuses.
            keep = p.candidates if deferred else max(k, p.rerank)
            if touched.size > keep:
                touched = _best(touched, totals, keep)
            first = totals[touched]
            if deferred and touched.size:
                first = add_common(first, touched, deferred)
            scores = dict(zip(touched.tolist(), first.tolist()))
        if deferred and not scores:
            get = scores.get
            for row, weight in deferred:
                present = np.flatnonzero(row)
                for doc_id, w in zip(present.tolist(), row[present].tolist()):
                    scores[doc_id] = get(doc_id, 0.0) + weight * w
        if not scores:
            return []
        # Bonuses that only reorder the best candidates: the best single phrasing, and shared intents.
        if len(scores) > max(k, p.rerank):
            scores = dict(heapq.nlargest(max(k, p.rerank), scores.items(), key=lambda kv: kv[1]))
        if p.phrase_weight and self.phrase_layout is not None:
            pool = list(scores)
            for doc_id, best in zip(pool, self.phrase_layout.best(pool, set(analysis.tokens) | set(analysis.grams))):
                scores[doc_id] += p.phrase_weight * best
        if analysis.intents and p.intent_weight:
            weight = p.intent_weight
            for label in analysis.intents:
                common = self.intents.common.get(label)
                postings: Iterable[tuple[int, float]]
                if common is not None:  # a label many entries share: looked up for each candidate (0.0: absent)
                    pool = list(scores)
                    postings = zip(pool, common[pool].tolist())
                else:
                    postings = self.intents.postings_of(label)
                for doc_id, w in postings:
                    if w and doc_id in scores:
                        scores[doc_id] += weight * w
        if self.associations is not None:  # reorders the candidates; the scores (the gate's features) stay lexical
            return self.associations.reorder(analysis, scores, k, p.assoc_weight)
        return heapq.nlargest(k, ((s, d) for d, s in scores.items()))

    def coverage(self, analysis: Analysis, doc_id: int) -> float:
        """Share of the question's weighted words and pinyin bigrams that entry `doc_id` contains."""
        oov = self.policy.oov_factor
        words = _covered(set(analysis.tokens), self.words, doc_id, oov)
        if not analysis.grams:
            return words
        return (words + _covered(set(analysis.grams), self.grams, doc_id, oov)) / 2.0

    def features(self, analysis: Analysis, ranked: list[tuple[float, int]]) -> Features:
        """The confidence features of a question whose ranking is `ranked` (see knowledge.confidence)."""
        if not ranked:
            return Features()
        best_score, best_doc = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        tokens = set(analysis.tokens)
        present = self.words.doc_terms[best_doc]
        share, evidence = general_coverage(self.stats, tokens, present)
        return Features(
            coverage=self.coverage(analysis, best_doc),
            general_coverage=share,
            anchor=anchor(self.stats, tokens, present),
            evidence=evidence,
            margin=(best_score - second) / best_score if best_score > 0 else 0.0,
            unknown=unknown(self.stats, tokens, self.words.idf),
            rel=min(REL_MAX, best_score / self.self_scores[best_doc]),
            lead=min(LEAD_MAX, math.log(best_score / second)) if second > 0 else LEAD_MAX,
        )

    def decide(self, features: Features, scope: Features | None = None) -> tuple[Outcome, float, float]:
        """(outcome, P(in scope), P(best entry right)) for a question with at least one ranked entry. `scope`:
        the features P(in scope) reads, when they are not those of the first entry (see `ask`)."""
        p = self.policy
        p_in = probability(p.in_scope_coef, (scope or features).vector(IN_SCOPE_FEATURES))
        p_ok = probability(p.correct_coef, features.vector(CORRECT_FEATURES))
        if p_in < p.none_below:
            return "none", p_in, p_ok
        if p_ok >= p.answer_from and features.margin >= p.answer_margin and p_in >= p.answer_in:
            return "answer", p_in, p_ok
        return "ambiguous", p_in, p_ok

    def ask(self, question: str, top: int = 3) -> Answer:
        top = max(1, top)
        question = bounded(question)
        analysis = self.analyzer.analyze(question)
        ranked = self.rank(analysis, max(top, 2))
        known = self.exact.get(phrasing_key(question))
        if known is not None:  # one of an entry's own phrasings: that entry, then the others as ranked
            others = [Match(self.entries[d], s) for s, d in ranked if d != known][:top - 1]
            best = ranked[0][0] if ranked else 1.0
            return Answer(question, "answer", [Match(self.entries[known], best), *others], 1.0)
        # Whether the question is ours at all is judged on the entry it shares most words with: an entry that the
        # associations moved first shares fewer, and would make an in-scope question look out of scope.
        lexical = max(range(len(ranked)), key=lambda i: ranked[i][0]) if ranked else 0
        if not ranked or ranked[lexical][0] < self.policy.min_score:
            return Answer(question, "none", [], 0.0)
        features = self.features(analysis, ranked)
        scope = self.features(analysis, [ranked[lexical]]) if lexical else None
        outcome, p_in, p_ok = self.decide(features, scope)
        matches = [Match(self.entries[d], s) for s, d in ranked[:top]]
        if outcome == "none" and not self.suggests(features, p_in):
            matches = []
        return Answer(question, outcome, matches, p_ok)

    def suggests(self, features: Features, p_in: float) -> bool:
        """Whether a "none" question looks in scope enough to be offered the best entries as suggestions."""
        p = self.policy
        return p_in >= p.suggest_from and features.anchor >= p.suggest_anchor


_NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def phrasing_key(text: str) -> str:
    """A phrasing compared up to width, case, spaces and punctuation (维修基金怎么用？ = 维修基金 怎么用)."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def _phrase_weights(analyses: list[Analysis], counts: list[int], p: "MatchPolicy") -> list[dict[str, float]]:
    """Per distinct phrasing, term → BM25 weight (pinyin bigrams scaled by gram_weight), with idf and average
    length over all phrasings (a phrasing that occurs `counts[i]` times counts that many times)."""
    out: list[dict[str, float]] = [{} for _ in analyses]
    n = sum(counts)
    if not n:
        return out
    for field, scale in (("tokens", 1.0), ("grams", p.gram_weight)):
        if not scale:
            continue
        bags = [Counter(getattr(a, field)) for a in analyses]
        df: Counter[str] = Counter()
        total = 0
        for bag, a, times in zip(bags, analyses, counts):
            total += times * len(getattr(a, field))
            for t in bag:
                df[t] += times
        avg = (total / n) or 1.0
        idf = {t: math.log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        k1p1 = p.k1 + 1.0
        for pid, bag in enumerate(bags):
            norm = p.k1 * (1.0 - p.b + p.b * len(getattr(analyses[pid], field)) / avg)
            weights = out[pid]
            for t, tf in bag.items():
                weights[t] = weights.get(t, 0.0) + scale * idf[t] * tf * k1p1 / (tf + norm)
    return out


class PhraseLayout:
    """Each entry's phrasings and each phrasing's term weights as flat arrays, so that the best phrasing of a
    few candidate entries is found with a handful of numpy operations (the Python loop over candidates ×
    phrasings × question terms was most of a question's ranking time)."""

    def __init__(self, phrase_terms: list[dict[str, float]], entry_phrases: list[tuple[int, ...]]):
        self.term_id: dict[str, int] = {}
        ids = self.term_id.setdefault
        self.terms = Ragged.of_lengths(len(weights) for weights in phrase_terms)
        size = int(self.terms.indptr[-1])
        self.term_ids = np.fromiter((ids(t, len(self.term_id)) for weights in phrase_terms for t in weights),
                                    dtype=np.intp, count=size)
        self.weights = np.fromiter((w for weights in phrase_terms for w in weights.values()), dtype=np.float64,
                                   count=size)
        self.phrasings = Ragged.of_lengths(len(pids) for pids in entry_phrases)
        self.phrase_ids = np.fromiter((pid for pids in entry_phrases for pid in pids), dtype=np.intp,
                                      count=int(self.phrasings.indptr[-1]))

    def best(self, entries: list[int], terms: set[str]) -> list[float]:
        """For each of `entries`, the score of its best phrasing: the sum of the weights of `terms` in it."""
        wanted = np.zeros(len(self.term_id) + 1, dtype=np.float64)
        known = [i for i in map(self.term_id.get, terms) if i is not None]
        if not known:
            return [0.0] * len(entries)
        wanted[known] = 1.0
        slots, slot_entry = self.phrasings.gather(np.asarray(entries, dtype=np.intp))
        pids = self.phrase_ids[slots]
        positions, term_slot = self.terms.gather(pids)
        per_phrasing = np.bincount(term_slot, self.weights[positions] * wanted[self.term_ids[positions]],
                                   minlength=pids.size)
        best = np.zeros(len(entries), dtype=np.float64)
        np.maximum.at(best, slot_entry, per_phrasing)
        return best.tolist()


def _best(candidates: np.ndarray, totals: np.ndarray, n: int) -> np.ndarray:
    """The `n` of `candidates` (entry numbers, ascending) with the highest totals; ties go to the lower number."""
    order = np.argsort(-totals[candidates], kind="stable")[:n]
    return candidates[np.sort(order)]


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
