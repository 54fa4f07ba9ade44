"""jieba's segmentation without the HMM (`Tokenizer.cut(text, HMM=False)`), word for word, in one pass.

jieba finds a text's words in three passes: the DAG of dictionary words starting at each position (looking every
prefix up in the dictionary, then each found word again to check its frequency), the best route through it by
log-frequency (looking every word up a third time), then a walk along the route. `cut` walks the prefixes once,
keeping each word's frequency as it is found, and computes the route from those: the same dictionary, the same
arithmetic in the same order (so the same ties), the same handling of what is not a Chinese run (ASCII letters and
digits a word of one character each are joined; anything else is cut as jieba cuts it). It is the question side's
most frequent operation (every segment of every question), so its cost is most of the analyzer's.
"""
from __future__ import annotations

from math import log

import jieba

# jieba's own patterns (jieba.re_han_default, jieba.re_eng): runs it segments with the dictionary, and the ASCII
# letters and digits it joins when the route leaves them one character each.
_HAN = jieba.re_han_default
_ENG = jieba.re_eng


def cut(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """`tokenizer.lcut(text, HMM=False)`."""
    out: list[str] = []
    for block in _HAN.split(text):
        if not block:
            continue
        if _HAN.match(block):
            _cut_run(tokenizer.FREQ, tokenizer.total, block, out)
        else:
            out.extend(tokenizer.cut(block, HMM=False))  # whitespace and symbols: jieba's own handling
    return out


def _cut_run(freq: dict[str, int], total: int, run: str, out: list[str]) -> None:
    n = len(run)
    # ends[k]: (end, frequency) of each dictionary word run[k:end + 1], ends ascending; a position no word starts
    # at is a word of one character (frequency None: not in the dictionary, or 0: a prefix only)
    ends: list[list[tuple[int, int | None]]] = []
    get = freq.get
    for k in range(n):
        found: list[tuple[int, int | None]] = []
        i = k
        frag = run[k]
        f = get(frag)
        while f is not None:
            if f:
                found.append((i, f))
            i += 1
            if i >= n:
                break
            frag = run[k:i + 1]
            f = get(frag)
        ends.append(found or [(k, get(run[k]))])
    # route[k]: (best log-probability of run[k:], end of its first word), as jieba's Tokenizer.calc: the largest
    # score, the longest word among equal scores
    logtotal = log(total)
    route: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
    for k in range(n - 1, -1, -1):
        best: tuple[float, int] | None = None
        for x, f in ends[k]:
            score = log(f or 1) - logtotal + route[x + 1][0]
            if best is None or score >= best[0]:
                best = (score, x)
        route[k] = best  # type: ignore[assignment]  # every position has at least one end
    # the walk along the route (jieba's __cut_DAG_NO_HMM): single ASCII letters and digits are joined
    buf = ""
    x = 0
    while x < n:
        y = route[x][1] + 1
        word = run[x:y]
        if y - x == 1 and _ENG.match(word):
            buf += word
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(word)
        x = y
    if buf:
        out.append(buf)
