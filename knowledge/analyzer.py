"""Turning text into index terms: normalise, segment with jieba, and derive pinyin terms.

One pristine jieba dictionary is loaded per process (the ~0.6 s cost) and copied into a dedicated
`jieba.Tokenizer` per knowledge base, so a knowledge base's user dictionary never leaks into another
and reloading does not pay the dictionary load again.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Iterable, Sequence

import jieba

from .intent import intents
from .loader import Resources
from .normalize import (
    STOPWORDS,
    AliasReplacer,
    HomophoneCorrector,
    char_pinyin,
    is_cjk,
    normalize_chars,
    split_segments,
    strip_greetings,
)
from .segment import cut

jieba.setLogLevel(logging.WARNING)

# Bare numbers and amounts (九十平, 八年, 3个) are details of a question, not its topic.
_NUMERAL_RE = re.compile(r"^[0-9零〇一二两三四五六七八九十百千万.]+[年月天日个平米块元次届周号回层楼岁户]?$")

# Negators drop out as stop words, but what they negate matters (不交物业费 is not 交物业费, 没有业委会 is not
# 业委会): the next content word after one is also emitted as a negated term (see Analysis.negated).
NEGATORS = frozenset("不 没 没有 未 并未 从未 从不 不曾".split())
NEGATION_MARK = "¬"

_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]{2,}")

_base_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None


def _pristine_tokenizer() -> jieba.Tokenizer:
    global _base_tokenizer
    with _base_lock:
        if _base_tokenizer is None:
            tk = jieba.Tokenizer()
            tk.initialize()
            _base_tokenizer = tk
        return _base_tokenizer


# Sentence-final particles. jieba's dictionary holds a few hundred entries that glue one onto a word (有用吗,
# 有事吗, 懂吗, 好了吧): as tokens they match nothing but themselves, while the word inside is what is asked about.
PARTICLES = "吗呢吧啊呀嘛"
_glued_words: list[str] | None = None


def _particle_glued(base: jieba.Tokenizer) -> list[str]:
    """Dictionary words of three or more characters made of a dictionary word and a trailing particle."""
    global _glued_words
    with _base_lock:
        if _glued_words is None:
            freq = base.FREQ
            _glued_words = [w for w, f in freq.items()
                            if f and len(w) >= 3 and w[-1] in PARTICLES and freq.get(w[:-1])]
        return _glued_words


def new_tokenizer(words: Sequence[tuple[str, int | None, str | None]] = ()) -> jieba.Tokenizer:
    """A fresh tokenizer sharing nothing mutable with others, with `words` added, and without the dictionary
    words that glue a particle onto a word (有用吗 is cut 有用 / 吗)."""
    base = _pristine_tokenizer()
    tk = jieba.Tokenizer()
    tk.FREQ = dict(base.FREQ)
    tk.total = base.total
    tk.initialized = True
    for word in _particle_glued(base):
        tk.FREQ[word] = 0  # still a prefix of longer words, no longer a word: jieba's DAG skips zero frequencies
    for word, freq, tag in words:
        tk.add_word(normalize_chars(word), freq, tag)
    return tk


@dataclass(frozen=True)
class Analysis:
    """Index terms of one text: word tokens, pinyin bigrams (for homophones and split words), the
    question intents (see knowledge.intent), the negated words (¬交 for 不交, ¬业主委员会 for 没有业委会) and
    the character bigrams of the normalised text (see char_bigrams)."""

    tokens: tuple[str, ...]
    grams: tuple[str, ...]
    intents: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()
    bigrams: tuple[str, ...] = ()


class Analyzer:
    """The text pipeline used on both sides of the match."""

    def __init__(self, resources: Resources, keywords: Iterable[str] = (), titles: Iterable[str] = ()):
        """`keywords` and `titles`: the knowledge base's own entry keywords and titles, domain terms written by
        its editors: typos of them (of the titles' words) are corrected like typos of the synonym table's terms (a
        knowledge base without its own synonyms.yaml would otherwise only know the bundled one's terms)."""
        self.aliases = AliasReplacer(resources.aliases, resources.canonicals)
        own = {k for k in keywords if k not in resources.aliases}
        terms = set(resources.aliases) | set(resources.canonicals) | {w for w, _, _ in resources.userwords} | own
        # Canonical terms and user-dictionary words are correctly written by definition: the corrector never
        # rewrites their characters into another term (物业公示 is not 物业公司).
        protected = set(resources.canonicals) | {w for w, _, _ in resources.userwords} | own
        words = list(resources.userwords)
        words += [(c, None, None) for c in resources.canonicals if len(c) > 1]
        self.tokenizer = new_tokenizer(words)
        # Two-character terms are corrected too, but only where the resident's two characters are not (part of)
        # a word as segmented: 务业 → 物业, 电题 → 电梯, while 租房住的 keeps 房住 (not 房主) and 工时 stays 工时.
        # The words of the entries' titles are the knowledge base's vocabulary too (an entry need not list keywords).
        terms |= {t for title in titles for seg in split_segments(normalize_chars(title)) for t in self._cut(seg)
                  if len(t) > 1 and all(is_cjk(c) for c in t) and t not in STOPWORDS}
        self.corrector = HomophoneCorrector(terms, protected, resources.aliases, self._cut)
        base = _pristine_tokenizer()
        # General-Chinese word frequencies (jieba's dictionary, without our user words): the background
        # against which knowledge.confidence measures how informative and how domain-specific a word is.
        self.general_freq: dict[str, int] = base.FREQ
        self.general_total: int = base.total

    def _cut(self, text: str) -> list[str]:
        return cut(self.tokenizer, text)  # self.tokenizer.lcut(text, HMM=False), in one pass (knowledge.segment)

    def normalize(self, text: str) -> list[str]:
        """Normalised segments (punctuation-free runs) with typos corrected and aliases canonicalised."""
        text = strip_greetings(normalize_chars(text))
        return [self.aliases(self.corrector(seg)) for seg in split_segments(text)]

    def tokens(self, text: str) -> list[str]:
        return self._tokens(self.normalize(text))

    def _tokens(self, segments: list[str]) -> list[str]:
        return self._terms(segments)[0]

    def _terms(self, segments: list[str]) -> tuple[list[str], list[str]]:
        """(content tokens, negated tokens): a negator negates the next content token of its segment."""
        out: list[str] = []
        negated: list[str] = []
        for seg in segments:
            negate = False
            for tok in self._cut(seg):
                if tok and tok not in STOPWORDS and not tok.isspace() and not _NUMERAL_RE.match(tok):
                    out.append(tok)
                    if negate:
                        negated.append(NEGATION_MARK + tok)
                        negate = False
                if tok in NEGATORS:
                    negate = True
        return out, negated

    def analyze(self, text: str) -> Analysis:
        segments = self.normalize(text)
        tokens, negated = self._terms(segments)
        return Analysis(tuple(tokens), tuple(pinyin_bigrams(tokens)), intents(segments), tuple(negated),
                        tuple(char_bigrams(segments)))


def pinyin_bigrams(tokens: list[str]) -> list[str]:
    """Bigrams of the fuzzy pinyin of consecutive CJK characters of the content tokens."""
    sounds = [char_pinyin(ch) for tok in tokens for ch in tok if is_cjk(ch)]
    return [f"{a}_{b}" for a, b in zip(sounds, sounds[1:])]


def char_bigrams(segments: list[str]) -> list[str]:
    """Bigrams of adjacent CJK characters of each normalised segment, stop words included.

    A signal that does not depend on segmentation: 物业不干活 and 物业干活不行 share 物业 and 干活 even where
    jieba cuts them differently, or where a stop word (干, 不) carries part of the meaning.
    """
    out: list[str] = []
    for seg in segments:
        for run in _CJK_RUN_RE.findall(seg):
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out
