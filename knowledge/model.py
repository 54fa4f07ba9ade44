"""Plain data types of the knowledge base: entries, matches, answers and the validation error."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["answer", "ambiguous", "none"]


class KnowledgeBaseError(ValueError):
    """A knowledge base failed validation; `problems` lists every problem, each naming file and entry."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("知识库有误：\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class Entry:
    """One question/answer entry as written in a YAML file."""

    id: str
    title: str
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    answer: str = ""
    source: str = ""
    file: str = ""

    def phrasings(self) -> list[str]:
        """The title followed by the alternative phrasings."""
        return [self.title, *self.questions]


@dataclass(frozen=True)
class Match:
    """An entry ranked for a question, with its retrieval score."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Answer:
    """The result of asking a question.

    outcome is "answer" (matches[0] is the answer), "ambiguous" (matches are the candidates to offer as a
    numbered list) or "none" (no answer; matches is empty, or holds suggestions when the question looks in
    scope: offered as a numbered list, never as an answer). confidence is in [0, 1]: the calibrated probability that
    the best entry is the right one (see knowledge.confidence); 0 when nothing matched at all.
    """

    question: str
    outcome: Outcome
    matches: list[Match] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def suggested(self) -> bool:
        """A "none" that still offers the best entries as suggestions."""
        return self.outcome == "none" and bool(self.matches)

    @property
    def best(self) -> Entry | None:
        return self.matches[0].entry if self.matches else None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "outcome": self.outcome,
            "matches": [
                {"id": m.entry.id, "score": round(m.score, 4), "title": m.entry.title} for m in self.matches
            ],
        }
