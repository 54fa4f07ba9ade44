"""Pure rules of the Q&A chat: the key a question is counted under, and the words residents use."""
from __future__ import annotations

import re
import unicodedata

from handlers import vocabulary

USEFUL = ("有用", "有帮助", "解决了", "👍")
USELESS = tuple(sorted(vocabulary.WRONG))  # 没用 / 不对 / 都不是: the shared vocabulary's "wrong"
HUMAN = ("转人工", "人工", "人工客服", "找人工", "联系工作人员", "我要转人工", "转人工客服", "人工服务", "转接人工",
         "找工作人员", "问工作人员", "我要找人工", "要人工")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def question_key(text: str) -> str:
    """Questions that differ only in width, case, spaces or punctuation count as one."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())[:200]


def is_word(text: str, words: tuple[str, ...]) -> bool:
    return vocabulary.clean(text) in words
