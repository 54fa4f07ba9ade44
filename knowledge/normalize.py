"""Text normalisation shared by the question side and the entry side.

Steps, all cheap and deterministic: NFKC (full width to half width), lower case, a small table of
traditional to simplified characters, removal of greetings and chatter phrases, splitting on punctuation,
homophone-typo correction against the domain's terms (by toneless, fuzzy pinyin), and alias
canonicalisation (业委会 → 业主委员会). Stop words are dropped after segmentation.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import AbstractSet, Callable, Iterable, Mapping

# Traditional -> simplified for characters that occur in this domain's questions. Deliberately small:
# a full converter is not worth its start-up cost here.
_TRAD = (
    "業会會費維資員區樓電車場開發廣務門關問題請謝麼個這們辦聯議訴調補貼錢繳納說時間對處應還沒嗎換選舉屆"
    "長層單為與從於後裡裏報質證擔責權壞滿線網號綁轉見決規則條實幾筆紀錄機構產産歸屬擁緊險廢結餘額專項準"
    "標價漲貨買賣讓給園綠衛潔護養設備鄰區頭續數據隊協會議難題麵廳臺颱亂搭違建築營運聽說懂誰哪裏爲衆眾帳帐"
)
_SIMP = (
    "业会会费维资员区楼电车场开发广务门关问题请谢么个这们办联议诉调补贴钱缴纳说时间对处应还没吗换选举届"
    "长层单为与从于后里里报质证担责权坏满线网号绑转见决规则条实几笔纪录机构产产归属拥紧险废结余额专项准"
    "标价涨货买卖让给园绿卫洁护养设备邻区头续数据队协会议难题面厅台台乱搭违建筑营运听说懂谁哪里为众众账账"
)
assert len(_TRAD) == len(_SIMP)
_TRAD_TABLE = str.maketrans(_TRAD, _SIMP)

# Greetings and chatter around the real question, removed as whole phrases (longest first).
GREETINGS = sorted(
    """
    你好啊 你好呀 你们好 大家好 您好 你好 在吗 在不在 有人吗 有没有人 哈喽 嗨 hello hi 亲 亲亲 早上好 上午好 中午好
    下午好 晚上好 早安 晚安 打扰了 打扰一下 不好意思 麻烦问一下 麻烦问下 麻烦您 麻烦你 麻烦了 麻烦 请问一下 请问下 请问
    问一下 问下 问问 想问一下 想问下 想问问 我想问 想问 问个事 问个事儿 问个问题 有个问题 有个事 有件事 咨询一下 咨询下
    咨询个事 咨询 谢谢你 谢谢您 谢谢啦 谢谢了 谢谢 多谢 感谢 辛苦了 哈哈哈 哈哈 呵呵 嘿嘿 嗯嗯 嗯 额 呃 好的 好吧 急急急
    急 求助 求解答 求问 在线等 请教一下 请教 帮我看看 帮帮忙 帮个忙 老师 师傅 领导 小编 管理员 机器人
    """.split(),
    key=len,
    reverse=True,
)
_GREETING_RE = re.compile("|".join(re.escape(g) for g in GREETINGS))

# Words that carry no topic: particles, pronouns, fillers, generic question words.
STOPWORDS = frozenset(
    """
    的 了 吗 呢 吧 啊 呀 哇 哦 噢 么 嘛 啦 哈 喔 诶 唉 哎 呗 咧 滴 得 地 着 过 之 其 而 且 或 及 与 和 跟 同 并
    我 我们 咱 咱们 俺 你 你们 您 他 她 它 他们 她们 大家 自己 人家 别人 本人
    是 在 有 没 没有 都 也 就 还 又 再 才 很 挺 太 非常 特别 比较 真 真的 好像 可能 应该 一般 一直 已经 老是 总是 总 经常
    这 那 这个 那个 这些 那些 这样 那样 这种 那种 这边 那边 这里 那里 此 该 个 些 一个 一下 一些 点 一点
    怎么 怎么办 怎么样 怎样 如何 什么 啥 咋 咋办 咋整 为什么 为啥 干嘛 干啥 是不是 是否 能否 可否 有没有 要不要 行不行
    请 想 想要 知道 告诉 说 说说 讲讲 看看 问 问题 一下子 情况 事 事情 事儿 东西 方面 问下 下 上
    现在 目前 最近 今天 昨天 明天 今年 去年 之前 以前 后来 然后 但是 可是 不过 所以 因为 如果 要是 的话 那么 而且
    吗吗 呢呢 啊啊 哈哈 呵呵 嗯 额 呃 哎呀 天呐 天哪 靠 唉 哼
    能 不能 能不能 可以 可不可以 要 不要 还要 得 给 不 去 来 到 里 把 被 让 就是 好 弄 整 搞 怎么弄 咋弄 咋样 到底 究竟
    干什么 是什么 干啥 一共 总共 先 出来 刚 刚刚 干 一次 一回 天天 死 死了 叫 意思 指 指的是 一直 又 呗 哪些 都有 有些 些 啥的 之类
    突然 居然 竟然 反正 其实 感觉 觉得 我家 咱家 俺家 行 能行 老 还能 还是 只是 只能
    做 什么时候 几时 凭什么 凭啥 凭嘛 咋回事 怎么回事
    """.split()
)

_SPLIT_RE = re.compile(r"[^\w]+|_+")


def normalize_chars(text: str) -> str:
    """Full width to half width, lower case, traditional to simplified, unify whitespace."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRAD_TABLE)
    return " ".join(text.split())


def strip_greetings(text: str) -> str:
    """Replace greeting and chatter phrases by a separator."""
    return _GREETING_RE.sub(" ", text)


def split_segments(text: str) -> list[str]:
    """Split on punctuation and whitespace into the runs of letters, digits and CJK characters."""
    return [s for s in _SPLIT_RE.split(text) if s]


# Characters of closed classes (pronouns, question words, particles, the commonest verbs) as written alone: a
# two-character typo window is never rewritten at one of them (谁管 stays 谁管, not 水管), nor rewritten when its
# agreeing character is one of them (吵了 stays 吵了, not 炒了): one content character that sounds like another is
# too little to guess on.
FUNCTION_CHARS = frozenset(w for w in STOPWORDS if len(w) == 1) | frozenset("谁哪啥咋怎么吗呢吧了的得地着过是有在")


def is_cjk(ch: str) -> bool:
    """Whether the character `ch` is a CJK unified ideograph of the basic block (U+4E00 to U+9FFF)."""
    return "\u4e00" <= ch <= "\u9fff"


_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    """Toneless, fuzzy pinyin of one character (zh/z, ch/c, sh/s, -ng/-n merged); non-CJK as is."""
    if not is_cjk(ch):
        return ch
    # imported here: pypinyin loads its phrase dictionary at import (~1 s), which every `linli` command and worker
    # would pay although only analysing text needs it (results are cached per character)
    from pypinyin import Style, lazy_pinyin

    py = lazy_pinyin(ch, style=Style.NORMAL)[0]
    for a, b in _FUZZY_INITIALS:
        if py.startswith(a):
            py = b + py[len(a):]
            break
    if py.endswith("ng"):
        py = py[:-1]
    return py


def text_pinyin(text: str) -> tuple[str, ...]:
    return tuple(char_pinyin(ch) for ch in text)


class AliasReplacer:
    """Longest-first replacement of aliases and typos by their canonical term, in one regex pass."""

    def __init__(self, aliases: dict[str, str], canonicals: AbstractSet[str] = frozenset()):
        table = {normalize_chars(k): normalize_chars(v) for k, v in aliases.items()}
        for c in canonicals:  # a canonical term maps to itself so its parts are not rewritten
            table.setdefault(normalize_chars(c), normalize_chars(c))
        self.table = table
        keys = sorted(table, key=len, reverse=True)
        self._re = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def __call__(self, text: str) -> str:
        if self._re is None:
            return text
        return self._re.sub(lambda m: self.table[m.group(0)], text)


class HomophoneCorrector:
    """Rewrites character windows that sound like a domain term but are written differently.

    Only terms of at least three characters take part, and a window is rewritten only when at least one
    character already agrees and at most half of them differ: 业为会 → 业委会, 物叶费 → 物业费, while two
    unrelated words that happen to share a pronunciation are rare at that length.

    A character that belongs to a correctly written `protected` term (a canonical domain word such as 公示) is
    never rewritten: 物业公示栏 sounds like 物业公司栏 under fuzzy pinyin, but 公示 is written right and is
    what the resident means.
    """

    MIN_LEN = 3
    MAX_LEN = 6

    def __init__(self, terms: set[str], protected: AbstractSet[str] = frozenset(),
                 canonical: Mapping[str, str] | None = None, segment: Callable[[str], Iterable[str]] | None = None):
        """`canonical`: alias or typo -> the term it stands for. Terms that sound alike but stand for the same
        term (业委会 and its listed typos 业为会, 业委汇) are one term, not a clash: a window is rewritten to the
        one of them it differs least from. `segment`: a word segmenter; with it, two-character terms take part
        too, a window of two characters being rewritten only where each is segmented as a word of its own."""
        words = sorted({normalize_chars(w) for w in protected if len(w) > 1}, key=len, reverse=True)
        self._protected_re = re.compile("|".join(re.escape(w) for w in words)) if words else None
        canonical = canonical or {}
        by_sound: dict[tuple[str, ...], tuple[str, ...] | None] = {}
        meaning: dict[tuple[str, ...], str] = {}
        for term in sorted(terms):
            target = canonical.get(term, term)
            term = normalize_chars(term)
            shortest = 2 if segment is not None else self.MIN_LEN
            if not (shortest <= len(term) <= self.MAX_LEN) or not all(is_cjk(c) for c in term):
                continue
            key = text_pinyin(term)
            same = by_sound.get(key, ())
            if key not in by_sound:
                by_sound[key], meaning[key] = (term,), target
            elif same is not None and meaning[key] == target:
                by_sound[key] = (*same, term)
            else:
                by_sound[key] = None  # two terms sound alike and mean different things: never guess between them
        self.by_sound = {k: v for k, v in by_sound.items() if v is not None}
        # The lengths of the terms beginning with each pair of sounds (longest first): only those windows are tried at
        # a position, none where no term begins with its next two sounds (most positions of most questions).
        heads: dict[tuple[str, ...], set[int]] = {}
        for k in self.by_sound:
            heads.setdefault(k[:2], set()).add(len(k))
        self.heads = {h: sorted(lengths, reverse=True) for h, lengths in heads.items()}
        self._segment = segment

    def __call__(self, text: str) -> str:
        if not self.by_sound:
            return text
        sounds = [char_pinyin(c) for c in text]
        kept: set[int] | None = None  # positions inside correctly written protected terms, found when first needed
        alone: set[int] | None = None  # positions of characters segmented as words of one character
        out: list[str] = []
        i, n = 0, len(text)
        heads = self.heads
        while i < n:
            lengths = heads.get(tuple(sounds[i:i + 2]))  # every term has two characters or more
            if lengths is None:
                out.append(text[i])
                i += 1
                continue
            for length in lengths:
                if i + length > n:
                    continue
                same = self.by_sound.get(tuple(sounds[i:i + length]))
                if same is None:
                    continue
                window = text[i:i + length]
                term = same[0] if len(same) == 1 else min(same, key=lambda t: sum(a != b for a, b in zip(window, t)))
                wrong = [i + j for j, (a, b) in enumerate(zip(window, term)) if a != b]
                differ = len(wrong)
                if differ and self._protected_re is not None:
                    if kept is None:
                        kept = self._protected_positions(text)
                    if any(j in kept for j in wrong):
                        continue
                if length == 2 and differ:
                    if alone is None:
                        alone = self._lone_characters(text)
                    if i not in alone or i + 1 not in alone:
                        continue  # part of a word as written (租房住的: 房住 is not 房主): what the resident wrote
                    if window[0] in FUNCTION_CHARS or window[1] in FUNCTION_CHARS:
                        continue  # 谁管 is not 水管, 吵了 is not 炒了
                if differ == 0 or (differ < length and differ <= length // 2):
                    out.append(term)
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _lone_characters(self, text: str) -> set[int]:
        out: set[int] = set()
        if self._segment is None:
            return out
        at = 0
        for tok in self._segment(text):
            if len(tok) == 1:
                out.add(at)
            at += len(tok)
        return out

    def _protected_positions(self, text: str) -> set[int]:
        if self._protected_re is None:
            return set()
        return {j for m in self._protected_re.finditer(text) for j in range(m.start(), m.end())}
