"""The chat remembers recent answers of a knowledge base: the same question is matched once, the memory is
bounded, and a reloaded knowledge base starts afresh."""
from __future__ import annotations

import pytest

from knowledge import base
from knowledge.base import KnowledgeBase


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def test_the_same_question_is_matched_once(kb, monkeypatch):
    calls = []
    real = kb.matcher.ask
    monkeypatch.setattr(kb.matcher, "ask", lambda q, top: calls.append(q) or real(q, top))
    first = kb.answer("联席会议多久开一次？", top=3)
    again = kb.answer("联席会议多久开一次？", top=3)
    assert again is first and calls == ["联席会议多久开一次？"]
    assert first.outcome == kb.ask("联席会议多久开一次？", top=3).outcome  # `ask` always computes
    assert len(calls) == 2
    kb.answer("联席会议多久开一次？", top=1)  # another `top` is another answer
    assert len(calls) == 3


def test_the_memory_is_bounded_least_recent_first(kb, monkeypatch):
    monkeypatch.setattr(base, "RECENT_ANSWERS", 3)
    kb._recent.clear()
    for q in ("物业费", "维修基金", "业委会", "物业费", "联席会议"):
        kb.answer(q)
    assert [q for q, _ in kb._recent] == ["业委会", "物业费", "联席会议"]


def test_a_reloaded_knowledge_base_remembers_nothing(kb):
    kb.answer("维修基金怎么用")
    fresh = KnowledgeBase(kb.entries, kb.analyzer, kb.directory)
    assert not fresh._recent
