"""The learned reranker (knowledge.rerank): it only permutes the candidates it is given, tells sibling entries
apart by the features it reads, keeps the first entry's strongest lexical competitor second, and is deterministic.
(It ships off, MatchPolicy.rerank_coef = (): see bench/kb_sets/README.md; these tests switch it on.)"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from knowledge import KnowledgeBase
from knowledge.matcher import Matcher
from knowledge.rerank import FEATURES, listwise_fit, pairwise_fit
from tests.knowledge.kb_testutil import write

# Two sibling entries of one topic whose phrasings say the same; only the answers tell deposit from refund.
SIBLINGS = """\
    - id: fund-deposit
      title: 维修资金的规定
      questions: [维修资金有什么规定]
      answer: 买新房时按建筑面积首次交存维修资金，存入专户。
      source: 合成
    - id: fund-refund
      title: 维修资金相关规定
      questions: [维修资金有哪些规定]
      answer: 房屋灭失后，维修资金余额退还给业主。
      source: 合成
    - id: fee-pay
      title: 物业费怎么交
      questions: [物业费交费方式]
      answer: 到物业服务中心交。
      source: 合成
    """

QUESTIONS = ["维修资金", "维修资金能退还吗", "物业费怎么交", "电梯坏了找谁修", "业委会怎么成立", "停车费多少钱",
             "小区里能不能养鸡", "房子卖了维修基金退吗", "物业不管事怎么办", "楼上漏水"]


def one_hot(name: str, weight: float = 1.0) -> tuple[float, ...]:
    return tuple(weight if f == name else 0.0 for f in FEATURES)


@pytest.fixture()
def siblings(tmp_path) -> KnowledgeBase:
    write(tmp_path, "kb.yaml", SIBLINGS)
    return KnowledgeBase.load(tmp_path)


def test_siblings_are_told_apart_by_their_answers(siblings):
    m = siblings.matcher
    question = "维修资金余额能退还吗"
    off = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(question), 3)]
    assert off[:2] == ["fund-deposit", "fund-refund"]  # the phrasings alone put the wrong sibling first
    on = Matcher(m.entries, m.analyzer, replace(m.policy, rerank_coef=one_hot("answer_only")))
    ranked = [on.entries[d].id for _, d in on.rank(on.analyzer.analyze(question), 3)]
    assert ranked[:2] == ["fund-refund", "fund-deposit"]
    # a question about depositing keeps the deposit entry first
    ranked = [on.entries[d].id for _, d in on.rank(on.analyzer.analyze("维修资金首次交存按面积吗"), 3)]
    assert ranked[0] == "fund-deposit"
    # the menu offered for the refund question now leads with the refund entry
    answer = on.ask(question, 3)
    assert answer.outcome == "ambiguous" and answer.matches[0].entry.id == "fund-refund"


def test_scores_stay_lexical_and_the_lexical_rival_comes_second(siblings):
    m = siblings.matcher
    on = Matcher(m.entries, m.analyzer, replace(m.policy, rerank_coef=one_hot("answer_only")))
    a = on.analyzer.analyze("维修资金余额能退还吗")
    off_ranked = m.rank(a, 3)
    on_ranked = on.rank(a, 3)
    assert dict((d, s) for s, d in on_ranked) == dict((d, s) for s, d in off_ranked)
    rest = on_ranked[1:]
    assert rest[0][0] == max(s for s, _ in rest)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reranker_only_permutes_the_candidates(kb, seed):
    coef = tuple(np.random.default_rng(seed).normal(size=len(FEATURES)).tolist())
    off = kb.matcher
    on = Matcher(off.entries, off.analyzer, replace(off.policy, rerank_coef=coef))
    depth = on.policy.rerank_depth
    moved = 0
    for q in QUESTIONS:
        a = off.analyzer.analyze(q)
        before, after = off.rank(a, depth), on.rank(a, depth)
        assert sorted(before) == sorted(after)
        moved += before != after
    assert moved  # random weights do reorder some questions


def test_outcomes_are_deterministic(kb):
    coef = tuple(np.random.default_rng(7).normal(size=len(FEATURES)).tolist())
    off = kb.matcher
    first = Matcher(off.entries, off.analyzer, replace(off.policy, rerank_coef=coef))
    second = Matcher(off.entries, off.analyzer, replace(off.policy, rerank_coef=coef))
    for q in QUESTIONS:
        answers = [m.ask(q, 3).to_json() for m in (first, first, second)]
        assert answers[0] == answers[1] == answers[2]


@pytest.mark.parametrize("fit", [pairwise_fit, listwise_fit])
def test_the_fits_recover_which_feature_tells_the_right_candidate(fit):
    rng = np.random.default_rng(3)
    groups = []
    for _ in range(200):
        x = rng.normal(size=(5, 3))
        right = np.zeros(5, dtype=bool)
        right[int(np.argmax(x[:, 1] + 0.1 * rng.normal(size=5)))] = True
        groups.append((x, right, 1.0))
    w = fit(groups, 0.001)
    assert w[1] > 3 * max(abs(w[0]), abs(w[2]))
