"""How well a knowledge base will be answered: warnings staff can act on before residents see the entries.

A community writes its own entries (console, `linli kb check`). Three things make residents get the wrong entry
or the "which one?" menu, and each is found from the knowledge base alone:

  * misrouted — one of an entry's example questions, asked of the knowledge base built without it (leave it out,
    in FOLDS folds), ranks another entry first: residents who ask something like it will get the other entry;
  * too close — an entry's title, asked as a question, has a second entry within CLOSE_MARGIN of the first (the
    gate's "true tie": residents asking about either get the menu);
  * too few questions — fewer than MIN_QUESTIONS example questions: the matcher knows only a couple of ways of
    asking, and colloquial questions are missed.

`review(kb)` is a pure function of the loaded knowledge base; the CLI (`linli kb check`) and the console's entry
form show its findings.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .base import KnowledgeBase
from .matcher import Matcher
from .model import Entry

FOLDS = 4             # example questions are left out a quarter at a time
MIN_QUESTIONS = 3     # fewer example questions than this: warned
CLOSE_MARGIN = 0.2    # the gate's answer margin: a second entry scoring above (1 − this) × the first is a tie


@dataclass(frozen=True)
class Finding:
    """One warning about entry `entry_id` (`other`: the entry it collides with, if any)."""

    entry_id: str
    kind: str          # "misrouted" | "too_close" | "few_questions"
    message: str
    other: str = ""


def review(kb: KnowledgeBase, min_questions: int = MIN_QUESTIONS, close_margin: float = CLOSE_MARGIN) -> list[Finding]:
    """Every finding for the knowledge base, entry by entry in file order."""
    misrouted = _misrouted(kb)
    out: list[Finding] = []
    seen_pairs: set[frozenset[str]] = set()
    for doc_id in range(len(kb.matcher.entries)):
        out += _entry_findings(kb, doc_id, misrouted.get(doc_id, ()), min_questions, close_margin, seen_pairs)
    return out


def review_entry(kb: KnowledgeBase, entry_id: str, min_questions: int = MIN_QUESTIONS,
                 close_margin: float = CLOSE_MARGIN) -> list[Finding]:
    """The findings about one entry (the console's entry form): the same as `review` gives for it, asking only its
    own example questions of the same leave-out indexes."""
    entries = kb.matcher.entries
    doc_id = next((d for d, e in enumerate(entries) if e.id == entry_id), None)
    if doc_id is None:
        return []
    misrouted = _misrouted(kb, only=doc_id).get(doc_id, ())
    return _entry_findings(kb, doc_id, misrouted, min_questions, close_margin, set())


def _entry_findings(kb: KnowledgeBase, doc_id: int, misrouted, min_questions: int, close_margin: float,
                    seen_pairs: set[frozenset[str]]) -> list[Finding]:
    m = kb.matcher
    entry = m.entries[doc_id]
    out = [Finding(entry.id, "misrouted", f"问法「{question}」（不算它自己时）会先找到条目 {other.id}（{other.title}）",
                   other.id) for question, other in misrouted]
    ranked = m.rank(m.analyzer.analyze(entry.title), 2)
    if len(ranked) == 2 and ranked[0][1] == doc_id and ranked[0][0] > 0:
        second_score, second_doc = ranked[1]
        other = m.entries[second_doc]
        pair = frozenset((entry.id, other.id))
        if second_score >= (1.0 - close_margin) * ranked[0][0] and pair not in seen_pairs:
            seen_pairs.add(pair)
            out.append(Finding(entry.id, "too_close",
                               f"与条目 {other.id}（{other.title}）太接近，居民问到时常会被要求二选一；"
                               "请在标题和问法里写出两者的区别", other.id))
    if len(entry.questions) < min_questions:
        out.append(Finding(entry.id, "few_questions",
                           f"只有 {len(entry.questions)} 个其他问法（建议至少 {min_questions} 个，写居民平时的说法）"))
    return out


def _misrouted(kb: KnowledgeBase, folds: int = FOLDS, only: int | None = None) -> dict[int, list[tuple[str, Entry]]]:
    """Entry number → (example question, the entry ranked first instead) for each example question that, left
    out of the knowledge base (every `folds`-th question of every entry at a time), ranks another entry first.
    `only`: ask only that entry's questions (the indexes are the same)."""
    entries = kb.matcher.entries
    out: dict[int, list[tuple[str, Entry]]] = {}
    for fold in range(folds):
        asked = [(d, q) for d, e in enumerate(entries) if only is None or d == only
                 for i, q in enumerate(e.questions) if i % folds == fold]
        if not asked:
            continue
        kept = [replace(e, questions=tuple(q for i, q in enumerate(e.questions) if i % folds != fold))
                for e in entries]
        # Without word associations (knowledge.assoc): the shipped table was learned from the bundled entries'
        # questions too, so a left-out question would still be found through its own word pairs.
        m = Matcher(kept, kb.analyzer, replace(kb.matcher.policy, assoc_weight=0.0))
        for doc_id, question in asked:
            ranked = m.rank(m.analyzer.analyze(question), 1)
            if ranked and ranked[0][1] != doc_id:
                out.setdefault(doc_id, []).append((question, entries[ranked[0][1]]))
    return out
