"""Numbered choices in chat: render a numbered list and read the resident's pick (pure functions)."""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

_NUMBER = re.compile(r"^(?:第\s*)?(\d{1,3})\s*(?:个|号|项)?$")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def numbered(options: Sequence[str]) -> str:
    return "\n".join(f"{i}. {name}" for i, name in enumerate(options, 1))


def pick(text: str, options: Sequence[str], *, by_name: bool = True) -> int | None:
    """The 0-based index the resident chose by number (1, １, 第2个, 三) or, with `by_name`, by a name or an
    unambiguous part of one; None if unclear."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("。.!！")
    found = _NUMBER.match(cleaned)
    number = int(found.group(1)) if found else _CN_DIGITS.get(cleaned.removeprefix("第").removesuffix("个"))
    if number is not None:
        return number - 1 if 1 <= number <= len(options) else None
    if not by_name:
        return None
    matches = [i for i, name in enumerate(options) if cleaned and (cleaned == name or cleaned in name)]
    return matches[0] if len(matches) == 1 else None


_PICK_MARK = re.compile(r"\d|第")  # a digit or an ordinal: an attempt at a pick (一/两 alone are ordinary words: 问一下)


def moved_on(text: str, *, shortest: int = 4) -> bool:
    """Whether a reply to a numbered list is something else altogether: a sentence of `shortest` characters or
    more with no digit or ordinal in it (a question, a complaint, 我想问一下…), not a wrong or unclear pick. A list step that
    gets one ends its dialog so the message is answered as a fresh one, instead of asking for a number again."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    return len(cleaned) >= shortest and not _PICK_MARK.search(cleaned)
