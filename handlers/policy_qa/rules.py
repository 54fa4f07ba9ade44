"""Pure rules of the Q&A chat: the key a question is counted under, and the words residents use."""
from __future__ import annotations

import re
import unicodedata

from handlers import vocabulary

USEFUL = ("有用", "有帮助", "解决了", "👍")
USELESS = tuple(sorted(vocabulary.WRONG))  # 没用 / 不对 / 都不是: the shared vocabulary's "wrong"
HUMAN = ("转人工", "人工", "人工客服", "找人工", "联系工作人员", "我要转人工", "转人工客服", "人工服务", "转接人工",
         "找工作人员", "问工作人员", "我要找人工", "要人工")
VOICE_MARK = "【语音】"  # an inquiry whose question is a voice message staff must listen to
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def question_key(text: str) -> str:
    """Questions that differ only in width, case, spaces or punctuation count as one."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())[:200]


def is_word(text: str, words: tuple[str, ...]) -> bool:
    return vocabulary.clean(text) in words


def voice_question(media_id: str) -> str:
    """The inquiry's question for a voice message nobody could turn into text: marked, with its MediaId, so staff
    know to listen to it (the recording itself is fetched with WeChat's media API)."""
    return f"{VOICE_MARK}居民发来一段语音，未能转成文字，请收听后答复。MediaId：{media_id[:128]}"


def is_voice_question(question: str) -> bool:
    return question.startswith(VOICE_MARK)
