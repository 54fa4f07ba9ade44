"""Calibrated confidence (knowledge.confidence): word statistics against general Chinese, the features and the
three-way decision; the best-phrasing bonus; and the resident vocabulary and everyday topics added with them."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import pytest

from knowledge import KnowledgeBase, MatchPolicy
from knowledge.confidence import ANCHOR_MIN, Features, TermStats, anchor, general_coverage, probability
from tests.knowledge.kb_testutil import write


def test_keyness_tells_domain_words_from_ordinary_ones(kb):
    stats = kb.matcher.stats
    assert stats.keyness("物业") > stats.keyness("天津")
    assert stats.keyness("专项维修资金") > stats.keyness("号")


def test_general_information_weighs_filler_low(kb):
    stats = kb.matcher.stats
    assert stats.information("突然") < stats.information("契税")
    assert stats.information("明年") < stats.information("社保")


def test_general_coverage_and_anchor():
    stats = TermStats(Counter({"物业": 50, "天津": 1}), {"物业": 239, "天津": 4801, "突然": 14998}, 60_000_000)
    share, evidence = general_coverage(stats, {"物业", "突然"}, frozenset({"物业"}))
    assert 0.5 < share < 1.0
    assert evidence == pytest.approx(math.log1p(stats.information("物业")))
    assert general_coverage(stats, set(), frozenset()) == (0.0, 0.0)
    assert anchor(stats, {"天津"}, frozenset()) == ANCHOR_MIN  # nothing shared
    assert anchor(stats, {"物业"}, frozenset({"物业"})) > anchor(stats, {"天津"}, frozenset({"天津"}))


def test_probability_is_logistic():
    assert probability((0.0, 1.0), [0.0]) == 0.5
    assert probability((0.0, 1.0), [2.0]) > 0.5 > probability((0.0, 1.0), [-2.0])
    assert probability((-100.0,), []) == 0.0


def test_decide_three_outcomes(kb):
    m = kb.matcher
    strong = Features(coverage=1.0, general_coverage=1.0, anchor=1.2, evidence=3.0, margin=0.5, lead=0.7, rel=0.8)
    weak = Features(coverage=0.1, general_coverage=0.1, anchor=0.0, evidence=1.0, margin=0.5)
    assert m.decide(strong)[0] == "answer"
    assert m.decide(replace(strong, margin=0.01, lead=0.01))[0] == "ambiguous"  # two entries alike: never guess
    assert m.decide(weak)[0] == "none"
    outcome, p_in, p_ok = m.decide(strong)
    assert 0.0 <= p_ok <= 1.0 and 0.0 <= p_in <= 1.0


@pytest.mark.parametrize("question", ["天津明天下雨吗", "今天几号", "附近哪有修自行车的", "房东不给退押金"])
def test_ordinary_words_shared_with_entries_make_no_answer(kb, question):
    assert kb.ask(question).outcome != "answer"


def test_colloquial_filler_keeps_a_question_in_scope(kb):
    a = kb.ask("物业突然通知明年物业费要涨，业主不同意能行吗")
    assert a.outcome != "none" and a.matches[0].entry.id == "property-fee-standard"


def test_confidence_does_not_need_a_big_knowledge_base(tiny_dir):
    kb = KnowledgeBase.load(tiny_dir)  # two entries: every shared word has a tiny idf
    a = kb.ask("维修基金是干什么的")
    assert a.outcome == "answer" and a.best.id == "fund-what" and a.confidence >= 0.8
    assert kb.ask("明天天气怎么样").outcome == "none"


PHRASINGS = """\
- id: together
  title: 电梯 维保
  questions: [门禁 绿化]
  answer: a
  source: s
- id: scattered
  title: 电梯 绿化
  questions: [门禁 维保]
  answer: b
  source: s
"""


def test_best_phrasing_bonus(tmp_path):
    write(tmp_path, "p.yaml", PHRASINGS)
    with_bonus = KnowledgeBase.load(tmp_path).ask("电梯 维保", top=2).matches
    without = KnowledgeBase.load(tmp_path, MatchPolicy(phrase_weight=0.0)).ask("电梯 维保", top=2).matches
    assert with_bonus[0].entry.id == "together"
    gap = {m.entry.id: m.score for m in with_bonus}
    plain = {m.entry.id: m.score for m in without}
    assert gap["together"] - gap["scattered"] > plain["together"] - plain["scattered"]


@pytest.mark.parametrize("question, entry_id", [
    ("我家要装修了 需要跟物业说一声吗", "renovation-rules"),
    ("单元门的锁坏了没人管", "shared-facility-repair"),
    ("家里水管漏水找物业修收钱吗", "private-repair"),
    ("电梯三天两头停运", "elevator-problems"),
    ("楼道里堆满了纸箱子和旧家具", "fire-passage-clutter"),
    ("有人从楼上往下扔酒瓶子", "high-rise-throwing"),
    ("邻居的狗半夜一直叫", "nuisance-behaviour"),
    ("停在小区的电动车被偷了", "theft-liability"),
    ("物业公司说要撤走了", "property-company-leaves"),
    ("退订公示推送", "linli-subscriptions"),
])
def test_everyday_topics(kb, question, entry_id):
    assert kb.ask(question).matches[0].entry.id == entry_id


def test_resident_aliases(kb):
    tk = kb.analyzer.tokens
    assert tk("物业太差劲") == tk("物业服务差")
    assert "更换物业" in tk("想换一家物业")
    assert "私搭乱建" in tk("一楼私自扩建")
    assert "邻居" in tk("楼上漏水")
    assert "表决" in tk("业主投票")
    assert "线上" in tk("物业费能用支付宝交吗")
