"""Pure rules of the first chat: the greeting / thank-you classifier and the shared yes/no/skip/wrong words."""
from __future__ import annotations

import pytest

from handlers import vocabulary
from handlers.common import rules


@pytest.mark.parametrize("text, kind", [
    ("你好", "greeting"), ("您好！", "greeting"), ("在吗", "greeting"), ("在吗？", "greeting"), ("你好呀", "greeting"),
    ("有人吗", "greeting"), ("早上好", "greeting"), ("您好，在吗", "greeting"),
    ("谢谢", "thanks"), ("谢谢您！", "thanks"), ("好的", "thanks"), ("好", "thanks"), ("收到", "thanks"),
    ("辛苦了", "thanks"), ("谢谢你们啦", "thanks"), ("你好，谢谢", "thanks"), ("ok", "thanks"),
    ("👍", "thanks"), ("👍👍", "thanks"), ("🙏", "thanks"), ("[微笑]", "thanks"), ("[强][抱拳]", "thanks"),
    ("/:strong", "thanks"), ("谢谢👍", "thanks"),
    ("Hello", "english"), ("hi there", "english"), ("thank you", "english"),
    ("How do I pay the property fee?", "english"),
    ("Could someone please tell me how the maintenance fund of our building can be used?", "english"),
    # real questions, complaints, numbers and commands are not swallowed
    ("你好，物业费怎么交", None), ("在吗？楼道灯坏了", None), ("谢谢，维修基金怎么用", None), ("早上几点收垃圾", None),
    ("jf20261207-1", None), ("JF20261207-0001", None), ("1", None), ("查询 1", None), ("13812345678", None),
    ("物业费", None), ("不用了", None), ("", None), ("啊", None), ("投诉 楼道灯坏了", None),
])
def test_classify(text, kind):
    assert rules.classify(text) == kind


def test_greeting_reply_offers_three_things_and_english_points_to_the_chinese_help():
    for kind in ("greeting", "thanks"):
        for bound in (True, False):
            said = rules.greeting_reply(kind, bound)
            assert said.count("\n· ") == 3 and "帮助" in said
            assert ("投诉" in said) is bound and ("绑定" in said) is not bound
    english = rules.greeting_reply("english", True)
    assert "\n" not in english and "「帮助」" in english and english.startswith("Hello")


@pytest.mark.parametrize("text, meaning", [
    ("是", "yes"), ("好的", "yes"), ("对。", "yes"), ("确认", "yes"), ("OK", "yes"), ("可以！", "yes"),
    ("不用了", "no"), ("没有", "no"), ("不需要", "no"), ("不要", "no"), ("否", "no"), ("不留", "no"),
    ("跳过", "skip"), ("好了", "skip"), ("完成", "skip"), ("就这些", "skip"),
    ("没用", "wrong"), ("都不是", "wrong"), ("不对", "wrong"), ("答非所问", "wrong"), ("👎", "wrong"),
    ("1", None), ("楼道灯坏了", None), ("维修基金怎么用", None),
])
def test_vocabulary(text, meaning):
    assert vocabulary.meaning(text) == meaning
    assert vocabulary.is_skip(text) is (meaning in ("skip", "no"))
    assert vocabulary.is_yes(text) is (meaning == "yes") and vocabulary.is_wrong(text) is (meaning == "wrong")


def test_every_dialog_reads_the_shared_vocabulary():
    """No dialog keeps a private list of yes / skip words: they all import handlers.vocabulary."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "handlers"
    readers = {p.parent.name for p in root.glob("*/*.py") if "vocabulary." in p.read_text(encoding="utf-8")}
    assert {"tickets", "registration", "surveys", "policy_qa"} <= readers
    for path in root.glob("*/*.py"):
        text = path.read_text(encoding="utf-8")
        assert 'SKIP = ("跳过"' not in text and 'YES = ("确认"' not in text, path
