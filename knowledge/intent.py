"""Question intents: what kind of answer a question wants, read from its question words.

The question words themselves (怎么, 多久, 谁, 多少, 是什么…) are stop words for topic matching: they say
nothing about *which* subject is asked about. They do say what is asked about it, and entries on the
same subject usually differ exactly there (维修资金是什么 / 怎么查 / 交多少 / 用完了要补交吗). Both sides
are mapped to a small set of intent labels with the same patterns; the matcher indexes each entry's
intents (from its title and questions) as a separate field, so an entry whose phrasings ask the same
kind of question as the resident gets a modest bonus, weighted by how rare that intent is.
"""
from __future__ import annotations

import re

# Label → pattern over normalised text (simplified, lower case, aliases already canonicalised).
# Order does not matter: a text gets every label whose pattern occurs in it.
INTENT_PATTERNS: dict[str, str] = {
    # What something is, what it means or is for, what it includes.
    "what": (
        r"是什么|是啥|是嘛|什么是|啥是|啥叫|什么叫|什么意思|啥意思|嘛意思|指什么|指啥|指的是|指的哪|哪几个|哪三个|哪五个|"
        r"干什么的|干啥的|干嘛的|干什么用|干嘛用|做什么用|做什么的|[做干管](?:些|点)?(?:什么|啥)|用来干|拿来干|管什么|管啥|有什么用|有啥用|有用吗|用途|作用|职责|义务|怎么回事|咋回事|"
        r"包括|包含|含什么|含啥|内容|区别|一回事"
    ),
    # How to do something: a procedure or a channel.
    "how": r"怎么(?!办|样|回事)|咋(?!办|整|样|回事)|如何(?!处理)|怎样|流程|程序|手续|步骤|方式|办法|途径",
    # Where to go or look.
    "where": r"哪里|哪儿|在哪|去哪|上哪|哪能|何处|渠道|地方|入口",
    # Who is responsible, who decides, to whom it belongs.
    "who": r"谁|哪个部门|哪个单位|哪家|主管部门|归属|决定",
    # What to do about a problem (a remedy), or whether anyone deals with it.
    "remedy": r"怎么办|咋办|咋整|怎么处理|如何处理|怎么解决|管不管|有人管|没人管|不管|不作为|解决不了|不给修|赖着|拒不|拒绝",
    # How long, how often, when.
    "time": (
        r"多久|多长时间|多长|几年|多少年|几个月|多少天|几天|几回|几次|一次|一回(?!事)|期限|时限|任期|年限|"
        r"什么时候|几时|哪年|每月|每年|礼拜|星期|好几天"
    ),
    # How much or how many: amounts, numbers of people, standards and ratios.
    "amount": r"多少|几个|几人|几户|人数|比例|多大|标准|交存额|几成",
    # Whether something is allowed, required or lawful (a yes/no question).
    "can": r"能不能|可不可以|可以|能否|能吗|合法|违法|行不行|允许|有权|要不要|需不需要|必须|得交|也要|还要|会不会|吗$|不$",
}

_COMPILED = {label: re.compile(p) for label, p in INTENT_PATTERNS.items()}


def intents(segments: list[str]) -> tuple[str, ...]:
    """The intent labels of a text given as its normalised segments (each segment tested on its own,
    so a sentence-final pattern such as 吗$ applies to every clause)."""
    found = []
    for label, rx in _COMPILED.items():
        if any(rx.search(seg) for seg in segments):
            found.append(label)
    return tuple(found)
