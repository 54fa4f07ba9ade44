"""Finding the community of a hotline order from its free-text address, as pure functions over the org tree of
the importer's jurisdiction (estates with their community, street and district names).

1. Estates: an estate whose name (without a trailing 小区) appears in the address matches exactly; otherwise the
   best window of the address of the name's length is compared with it (`difflib`, ratio ≥ 0.75: one character
   in four may differ — 谊景园 for 谊景花园, a typo, a missing 花园). A name inside a longer matched name (嘉园 in
   水岸嘉园) gives way to the longer one.
2. The best score wins when it stands alone; estates within 0.05 of it are candidates (ambiguous) — unless the
   street or district named in the address leaves exactly one.
3. No estate: a community whose name (without 社区) appears in the address matches at community level.
4. Nothing: unmatched. Unmatched and ambiguous orders are listed for staff to place by hand.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

THRESHOLD = 0.75
MARGIN = 0.05
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Place:
    community_id: int
    community: str
    street: str
    district: str
    estate_id: int | None = None
    estate: str | None = None

    @property
    def label(self) -> str:
        return f"{self.street}{self.community}" + (f" {self.estate}" if self.estate else "")


@dataclass(frozen=True)
class Match:
    status: str  # matched / ambiguous / unmatched
    place: Place | None = None
    candidates: tuple[Place, ...] = ()
    score: float = 0.0


def normal(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def core(name: str, suffixes: tuple[str, ...]) -> str:
    key = normal(name)
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


def similarity(name: str, address: str) -> float:
    """1.0 when `name` appears in `address`; else the best ratio over windows of about its length."""
    if not name:
        return 0.0
    if name in address:
        return 1.0
    chars = set(name)
    if len(chars & set(address)) < THRESHOLD * len(chars) - 1e-9:  # too few of its characters: cannot reach it
        return 0.0
    best = 0.0
    for width in {len(name) - 1, len(name), len(name) + 1}:
        if width < 2:
            continue
        for start in range(0, max(1, len(address) - width + 1)):
            matcher = SequenceMatcher(None, name, address[start:start + width], autojunk=False)
            if matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best


@dataclass
class Tree:
    """The places an order may be matched to (built once per import)."""

    estates: list[Place]
    communities: list[Place]

    def __post_init__(self) -> None:
        self._estate_keys = [(p, core(p.estate or "", ("小区",))) for p in self.estates]
        self._community_keys = [(p, core(p.community, ("社区", "居委会"))) for p in self.communities]

    def match(self, address: str) -> Match:
        text = normal(address)
        scored = [(similarity(key, text), p, key) for p, key in self._estate_keys if key]
        scored = [s for s in scored if s[0] >= THRESHOLD]
        exact_keys = [key for score, _, key in scored if score == 1.0]
        scored = [s for s in scored if not any(s[2] != k and s[2] in k for k in exact_keys)]
        if scored:
            best = max(s[0] for s in scored)
            close = [p for score, p, _ in scored if score >= best - MARGIN]
            close = self._narrow(close, text)
            if len(close) == 1:
                return Match("matched", close[0], (), round(best, 3))
            return Match("ambiguous", None, tuple(close[:8]), round(best, 3))
        found = [p for p, key in self._community_keys if key and key in text]
        found = self._narrow(found, text)
        if len(found) == 1:
            return Match("matched", found[0], (), 1.0)
        if found:
            return Match("ambiguous", None, tuple(found[:8]), 1.0)
        return Match("unmatched")

    @staticmethod
    def _narrow(places: list[Place], text: str) -> list[Place]:
        """Keep the places whose street (or district) the address names, when that keeps some."""
        if len(places) < 2:
            return places
        for attr, suffixes in (("street", ("街道", "街")), ("district", ("区", "县"))):
            named = [p for p in places if core(getattr(p, attr), suffixes) in text]
            if named and len(named) < len(places):
                places = named
        return places
