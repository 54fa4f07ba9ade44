"""Pure rules of the common words: is a message only a greeting, a thank-you / acknowledgement, or English?

`classify(text)` answers "greeting", "thanks", "english" or None. It is deliberately narrow: a message is a
greeting only when nothing but greeting words, emoji and punctuation is left, so 「你好，物业费怎么交」 stays a
question for the knowledge base and 「在吗？楼道灯坏了」 a complaint to be understood.
"""
from __future__ import annotations

import re
import unicodedata

GREETINGS = (
    "你好", "您好", "你们好", "大家好", "在吗", "在不在", "在么", "有人吗", "有人在吗", "哈喽", "嗨", "早上好", "上午好",
    "中午好", "下午好", "晚上好", "早安", "晚安", "早", "请问", "打扰了", "打扰一下", "hello", "hi", "hey", "喂",
)
THANKS = (
    "谢谢", "谢谢你", "谢谢您", "谢谢你们", "谢了", "多谢", "感谢", "非常感谢", "太感谢了", "辛苦了", "辛苦", "麻烦了",
    "好的", "好", "好嘞", "好滴", "嗯", "嗯嗯", "哦", "噢", "行", "知道了", "明白了", "收到", "了解", "ok", "okay",
    "thanks", "thank you", "thx",
)
# particles that soften a greeting without adding meaning (你好呀, 在吗亲, 谢谢啦)
PARTICLES = ("呀", "啊", "哈", "啦", "哦", "噢", "呢", "吧", "哟", "亲", "们", "老师", "同志", "师傅")
# WeChat's own emoji arrive as text codes: [微笑], [强], [抱拳], [OK], /:strong
_WECHAT_CODE = re.compile(r"\[[^\[\]\s]{1,6}\]|/:[a-zA-Z!?<>@#$%^&*()_+=\-]{1,12}")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_KINDS = {**{w.replace(" ", ""): "greeting" for w in GREETINGS}, **{w.replace(" ", ""): "thanks" for w in THANKS}}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LETTERS = re.compile(r"[A-Za-z]")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def _is_symbol(ch: str) -> bool:
    """Emoji and other pictographs (👍 🙏 😊 ❤ ✌), skin-tone and joiner marks."""
    category = unicodedata.category(ch)
    return category in ("So", "Sk", "Cs", "Mn", "Cf") or 0x1F000 <= ord(ch) <= 0x1FAFF


def _by_length(kinds: dict[str, str]) -> list[str]:
    return sorted([*kinds, *PARTICLES], key=len, reverse=True)


def _strip_words(text: str, kinds: dict[str, str], ordered: list[str] | None = None) -> tuple[str, set[str]]:
    """Remove leading known words (longest first) and particles; (what is left, the kinds of words found).
    `ordered` is `_by_length(kinds)` when the caller keeps it (every chat message is classified)."""
    ordered = ordered or _by_length(kinds)
    found: set[str] = set()
    changed = True
    while text and changed:
        changed = False
        for word in ordered:
            if text.startswith(word):
                text, changed = text[len(word):], True
                if word in kinds:
                    found.add(kinds[word])
                break
    return text, found


_KINDS_BY_LENGTH = _by_length(_KINDS)


def classify(text: str) -> str | None:
    """"greeting", "thanks" (also 好的 / 👍 / [微笑]: an acknowledgement), "english", or None for anything else."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return None
    if len(raw) > 40:  # greetings are short; a long message is something to read
        return "english" if is_english(raw) else None
    codes = _WECHAT_CODE.findall(raw)
    plain = _WECHAT_CODE.sub(" ", raw)
    symbols = [ch for ch in plain if _is_symbol(ch)]
    plain = "".join(ch for ch in plain if not _is_symbol(ch))
    words = _PUNCT.sub("", plain.lower().replace("thank you", "thanks"))
    if not words:
        return "thanks" if codes or symbols else None  # only emoji (👍, [微笑]): a friendly acknowledgement
    rest, found = _strip_words(words, _KINDS, _KINDS_BY_LENGTH)
    if not rest and found:
        if is_english(raw) and words not in ("ok", "okay"):
            return "english"  # hello / thanks in English: point to the Chinese help
        return "thanks" if "thanks" in found else "greeting"
    if is_english(raw):
        return "english"
    return None


def is_english(text: str) -> bool:
    """Text written in English: no Chinese characters, at least one English word, and mostly letters (so a
    ticket number such as jf20261207-1 or a phone number is not English)."""
    plain = unicodedata.normalize("NFKC", text or "")
    if _CJK.search(plain) or not _ENGLISH_WORD.search(plain):
        return False
    letters = len(_LETTERS.findall(plain))
    alnum = sum(ch.isalnum() for ch in plain)
    return letters >= 0.7 * alnum


def greeting_reply(kind: str, bound: bool) -> str:
    """The answer to a greeting or a thank-you: a friendly word and the three most useful things to do."""
    if kind == "english":
        return "Hello! This service is in Chinese: reply 「帮助」 (help) for the list of what it can do."
    head = "您好！我是邻里社区服务号。" if kind == "greeting" else "不客气！还有需要随时找我。"
    first = ("· 投诉：反映物业、维修、收费等问题，如「投诉 楼道灯坏了三天了」" if bound else
             "· 绑定：先选择您所在的社区和小区，才能接收公示、反映问题")
    return (f"{head}您可以直接回复：\n{first}\n· 公示：查看本社区最新公示\n"
            "· 直接提问物业政策，如「维修基金怎么用」\n回复「帮助」查看全部功能。")
