"""One vocabulary of the short replies every chat dialog reads: yes, no, skip, wrong (pure functions).

Residents answer a dialog's question the way they would answer a person: 「好的」「对」 for yes, 「不用了」「没有」 for no,
「跳过」「好了」 to move past an optional step, 「没用」「都不是」 when what they were shown is wrong. Every dialog reads
these words through this module, so a word understood at one step is understood at all of them.

A dialog decides what each meaning does at its step: at an optional step (photos, phone number, room) "no" is
a skip; at a confirmation only "yes" goes ahead; after an answer or a candidate list "wrong" means the resident
was not helped (not a new question). Right after a voice message was heard as text, 「不对」「听错了」 (MISHEARD)
say the hearing was wrong (handlers/common, bot/voice.py).
"""
from __future__ import annotations

import re
import unicodedata

YES = frozenset({
    "是", "是的", "对", "对的", "对了", "好", "好的", "行", "可以", "确认", "确定", "提交", "确认提交", "同意", "嗯",
    "嗯嗯", "ok", "okay", "yes", "y", "没问题", "没错", "要", "需要", "发送", "发吧", "好啊", "可以的",
})
NO = frozenset({
    "不", "不是", "否", "不要", "不用", "不用了", "不需要", "不需要了", "没有", "没有了", "没", "无", "不了", "不留",
    "no", "n", "不必", "不用留", "没什么",
})
SKIP = frozenset({
    "跳过", "略过", "不填", "不答", "下一步", "好了", "完成", "完了", "发完了", "就这些", "没了", "skip",
})
WRONG = frozenset({
    "没用", "没有用", "无用", "没帮助", "没有帮助", "不对", "不是这个", "都不是", "都不对", "答非所问", "错了",
    "不是我要问的", "看不懂", "👎",
})
# Right after a voice message was heard as text (「您说的是：…」): the resident says it was heard wrong. Only words
# about the hearing: 「没用」「答非所问」 still rate an answer, even one given to a heard question.
MISHEARD = frozenset({
    "不对", "不对不对", "错了", "听错了", "说错了", "识别错了", "认错了", "不是这个", "不是这样", "都不对", "不是这句",
    "我不是这么说的", "不是这么说的", "我说的不是这个",
})
MEANINGS = (("wrong", WRONG), ("skip", SKIP), ("no", NO), ("yes", YES))
_TRAILING = re.compile(r"[\s。．.！!~～，,、…]+$")


def clean(text: str) -> str:
    """The reply as compared with the vocabulary: NFKC, lower case, no surrounding spaces or final punctuation."""
    return _TRAILING.sub("", unicodedata.normalize("NFKC", text or "").strip().lower()).strip()


def meaning(text: str) -> str | None:
    """"yes", "no", "skip", "wrong" or None (the reply is something else: a number, a description, a question)."""
    word = clean(text)
    for name, words in MEANINGS:
        if word in words:
            return name
    return None


def is_yes(text: str) -> bool:
    return meaning(text) == "yes"


def is_no(text: str) -> bool:
    return meaning(text) == "no"


def is_skip(text: str) -> bool:
    """At an optional step, "no" and "skip" both move on without giving anything."""
    return meaning(text) in ("skip", "no")


def is_wrong(text: str) -> bool:
    return meaning(text) == "wrong"


def is_misheard(text: str) -> bool:
    """「不对」 about what a voice message was heard as (see MISHEARD)."""
    return clean(text) in MISHEARD
