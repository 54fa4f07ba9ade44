"""Pure rules of the Q&A chat: the key a question is counted under, and the words residents use."""
from __future__ import annotations

import re
import unicodedata

USEFUL = ("有用", "有帮助", "解决了", "👍")
USELESS = ("没用", "没有用", "无用", "没帮助", "不对", "👎")
HUMAN = ("转人工", "人工", "人工客服", "找人工", "联系工作人员")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def question_key(text: str) -> str:
    """Questions that differ only in width, case, spaces or punctuation count as one."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())[:200]


def is_word(text: str, words: tuple[str, ...]) -> bool:
    return unicodedata.normalize("NFKC", text).strip().rstrip("。.!！~～") in words
