"""The knowledge base object and its hot-reload holder."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .analyzer import Analyzer
from .loader import BUNDLED_DIR, load_entries, load_resources
from .matcher import Matcher, MatchPolicy, bounded
from .model import Answer, Entry

RECENT_ANSWERS = 4096


class KnowledgeBase:
    """Validated entries plus the index built from them; immutable once loaded, safe to share."""

    def __init__(self, entries: list[Entry], analyzer: Analyzer, directory: Path | None = None,
                 policy: MatchPolicy | None = None):
        self.entries: list[Entry] = list(entries)
        self.directory = directory
        self._by_id = {e.id: e for e in self.entries}
        self.analyzer = analyzer
        self.matcher = Matcher(self.entries, analyzer, policy)
        # Residents ask the same short things again and again (你好, 物业费, 维修基金…); answers of an immutable
        # knowledge base can be remembered. Bounded, per instance, so a reload starts afresh.
        self._recent: OrderedDict[tuple[str, int], Answer] = OrderedDict()

    @classmethod
    def load(cls, directory: Path | str | None = None, policy: MatchPolicy | None = None) -> "KnowledgeBase":
        """Load and index the YAML entries of `directory` (None: the bundled knowledge base).

        The directory's own synonyms.yaml / userdict.txt are used when present, the bundled ones otherwise.
        Raises KnowledgeBaseError listing every problem.
        """
        path = Path(directory) if directory is not None else BUNDLED_DIR
        entries = load_entries(path)
        resources = load_resources(path)
        return cls(entries, Analyzer(resources, {k for e in entries for k in e.keywords}, [e.title for e in entries]), path, policy)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def ask(self, question: str, top: int = 3) -> Answer:
        return self.matcher.ask(question, top)

    def answer(self, question: str, top: int = 3) -> Answer:
        """`ask`, remembering the last RECENT_ANSWERS questions (the chat's path; `ask` always computes, so
        evaluations time the matcher itself)."""
        key = (bounded(question), top)  # the remembered questions are bounded too
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
            return found
        found = self._recent[key] = self.matcher.ask(question, top)
        if len(self._recent) > RECENT_ANSWERS:
            self._recent.popitem(last=False)
        return found


class KnowledgeHolder:
    """Holds the knowledge base in use; `reload` swaps in a new one only if it validates.

    Readers take `holder.current` (a single reference read, atomic) and keep using that object for the
    whole question, so a concurrent reload never changes a knowledge base under a reader. Reloads are
    serialised by a lock. In asyncio code, run `reload` in an executor: building the index is CPU work.
    """

    def __init__(self, kb: KnowledgeBase | None = None, directory: Path | str | None = None):
        self._lock = threading.Lock()
        self._directory = Path(directory) if directory is not None else None
        self._current = kb if kb is not None else KnowledgeBase.load(self._directory)

    @property
    def current(self) -> KnowledgeBase:
        return self._current

    def ask(self, question: str, top: int = 3) -> Answer:
        return self._current.ask(question, top)

    def reload(self, directory: Path | str | None = None) -> KnowledgeBase:
        """Load `directory` (None: the directory last loaded, or the bundled one) and swap it in.

        On KnowledgeBaseError the current knowledge base stays and the error propagates.
        """
        with self._lock:
            target = Path(directory) if directory is not None else self._directory
            kb = KnowledgeBase.load(target)
            self._current = kb
            self._directory = target
            return kb
