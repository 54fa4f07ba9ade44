"""linli's policy Q&A knowledge base: YAML entries, validation, matching and hot reload.

    kb = KnowledgeBase.load()            # bundled knowledge/data/, or load(Path("my_kb"))
    answer = kb.ask("物业废怎么交")       # Answer(outcome="answer"|"ambiguous"|"none", matches=[...])
    holder = KnowledgeHolder(kb); holder.reload(Path("my_kb"))
"""
from .base import KnowledgeBase, KnowledgeHolder
from .matcher import MatchPolicy
from .model import Answer, Entry, KnowledgeBaseError, Match
from .render import render_answer

__all__ = [
    "Answer", "Entry", "KnowledgeBase", "KnowledgeBaseError", "KnowledgeHolder", "Match", "MatchPolicy",
    "render_answer",
]
