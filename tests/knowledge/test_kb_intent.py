"""Question intents (怎么/多久/谁/多少/是什么…), the intent field of the matcher, and the vocabulary and
phrasing additions that go with them."""
from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from knowledge.intent import intents
from knowledge.normalize import normalize_chars
from tests.knowledge.kb_testutil import write


@pytest.mark.parametrize("text, label", [
    ("业委会多久换届", "time"),
    ("联席会议多长时间开一次", "time"),
    ("这个钱归谁", "who"),
    ("物业费多少钱一平米", "amount"),
    ("三个公开是什么", "what"),
    ("维修资金是干什么用的", "what"),
    ("物业费怎么交", "how"),
    ("在哪看公示", "where"),
    ("物业不公示怎么办", "remedy"),
    ("空房子也要交物业费吗", "can"),
])
def test_intent_labels(text, label):
    assert label in intents([text])


def test_remedy_is_not_how():
    assert "how" not in intents(["物业不打扫怎么办"])
    assert "how" not in intents(["这是怎么回事"]) and "what" in intents(["这是怎么回事"])
    assert intents(["物业费"]) == ()


def test_analysis_carries_intents(kb):
    a = kb.analyzer.analyze("你好，维修基金怎么查？")
    assert "how" in a.intents and "怎么" not in a.tokens  # question words stay out of the topic tokens


TWO_OF_A_TOPIC = """\
- id: fund-what
  title: 维修资金是什么？
  questions: [维修资金的用途]
  answer: 业主共有的钱。
  source: s
- id: fund-balance
  title: 怎么查维修资金余额？
  questions: [维修资金在哪查询]
  answer: 去房管部门查。
  source: s
- id: fund-topup
  title: 维修资金用完了要续交吗？
  questions: [维修资金不够了]
  answer: 要续交。
  source: s
"""


def test_intent_separates_entries_on_one_topic(tmp_path):
    write(tmp_path, "fund.yaml", TWO_OF_A_TOPIC)
    kb = KnowledgeBase.load(tmp_path)
    assert kb.ask("维修基金").outcome == "ambiguous"  # a bare topic: offer the list
    assert kb.ask("维修基金咋查").matches[0].entry.id == "fund-balance"
    assert kb.ask("维修基金是啥").matches[0].entry.id == "fund-what"


def test_intent_alone_never_matches(tmp_path):
    write(tmp_path, "fund.yaml", TWO_OF_A_TOPIC)
    kb = KnowledgeBase.load(tmp_path)
    for q in ("怎么弄呢", "是什么", "多久", "怎么办"):  # question words only, no topic
        assert kb.ask(q).outcome == "none", q


@pytest.mark.parametrize("question, entry_id", [
    ("物业费怎么交", "property-fee-how-to-pay"),
    ("维修基金怎么查", "maintenance-fund-balance"),
    ("业委会多久换届", "committee-term-renewal"),
])
def test_common_short_questions_get_a_confident_answer(kb, question, entry_id):
    a = kb.ask(question)
    assert a.outcome == "answer" and a.matches[0].entry.id == entry_id


@pytest.mark.parametrize("question", ["维修基金", "物业费", "业委会"])
def test_bare_topic_words_with_several_entries_stay_a_list(kb, question):
    assert kb.ask(question).outcome == "ambiguous"


@pytest.mark.parametrize("question", [
    "煤气费怎么交", "火车票在哪买", "周末带孩子去哪玩", "帮我订个外卖", "你喜欢什么颜色", "快递到哪了",
])
def test_out_of_scope_is_not_answered(kb, question):
    assert kb.ask(question).outcome != "answer", question


def test_resident_vocabulary(kb):
    tk = kb.analyzer.tokens
    assert "保洁" in tk("物业不打扫卫生")
    assert "不公示" in tk("物业啥都没公示")
    assert tk("换物业公司") == tk("更换物业")
    assert "转人工" in tk("我想找真人")
    assert normalize_chars("三个上帐") == "三个上账"


def test_bot_help_and_human(kb):
    assert kb.ask("你能做什么").matches[0].entry.id == "linli-help"
    assert kb.ask("找个真人客服").matches[0].entry.id == "linli-human"


def test_every_entry_has_three_phrasings(kb):
    thin = [e.id for e in kb.entries if len(e.questions) < 3]
    assert not thin, thin
