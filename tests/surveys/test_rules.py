"""Pure rules: reading answers, eligibility and voice keys, the built-in templates, and aggregation on a known
data set (distribution, mean, satisfaction rate, participation per estate, community roll-up, rankings)."""
from __future__ import annotations

import pytest

from handlers.surveys import rules, tally
from handlers.surveys.templates_builtin import TEMPLATES, build

RATING = build("property")[0]
SINGLE = build("property")[6]
MULTI = build("property")[7]
COMMENT = build("property")[8]


@pytest.mark.parametrize("text,value", [("4", 4), ("４", 4), ("四", 4), ("4分", 4), ("满意", 4), ("非常满意", 5),
                                        (" 1 ", 1), ("5。", 5)])
def test_rating_answers(text, value):
    assert rules.parse_answer(RATING, text).value == value


@pytest.mark.parametrize("text", ["0", "6", "很好", "45", "", "跳过", "4 5"])
def test_rating_refusals_give_a_hint(text):
    parsed = rules.parse_answer(RATING, text)
    assert not parsed.ok and "1 到 5" in parsed.hint


@pytest.mark.parametrize("text,value", [("1 3", [1, 3]), ("1,3", [1, 3]), ("3，1", [1, 3]), ("1、3、3", [1, 3]),
                                        ("13", [1, 3]), ("7", [7]), ("2 / 5", [2, 5])])
def test_multiple_choice_answers(text, value):
    assert rules.parse_answer(MULTI, text).value == value


def test_multiple_choice_digit_runs_need_separators_with_ten_or_more_options():
    q = {**MULTI, "options": [f"选项{i}" for i in range(1, 12)]}
    assert not rules.parse_answer(q, "13").ok and rules.parse_answer(q, "1 3").value == [1, 3]
    assert rules.parse_answer(q, "11").ok is False and rules.parse_answer(q, "第11项").value == [11]
    assert not rules.parse_answer(MULTI, "1 8").ok and not rules.parse_answer(MULTI, "0").ok


def test_skip_back_and_comments():
    assert rules.parse_answer(MULTI, "跳过").value is rules.SKIP  # optional
    assert rules.parse_answer(SINGLE, "返回").value is rules.BACK
    assert "必答" in rules.parse_answer(SINGLE, "跳过").hint
    assert rules.parse_answer(COMMENT, "无").value is rules.SKIP
    assert rules.parse_answer(COMMENT, "楼道灯坏了，３楼").value == "楼道灯坏了，３楼"  # kept as written
    assert not rules.parse_answer(COMMENT, "长" * 501).ok
    assert rules.parse_answer(SINGLE, "不支持").value == 2


def test_eligibility_and_keys():
    rule = rules.Rule(frozenset({(1, 10), (1, 11), (2, None)}), owners_only=True, per_household=True)
    owner = rules.Voter("r1", 1, 10, "owner", "3号楼", "501室")
    assert rules.eligibility(rule, owner).ok
    assert rules.eligibility(rule, rules.Voter("r", None, None, None)).reason == "unbound"
    assert rules.eligibility(rule, rules.Voter("r", 1, 12, "owner", "1", "1")).reason == "out_of_scope"
    assert rules.eligibility(rule, rules.Voter("r", 2, 99, "owner", "1", "1")).ok  # whole community 2
    assert rules.eligibility(rule, rules.Voter("r", 1, 10, "tenant", "1", "1")).reason == "not_owner"
    assert rules.eligibility(rule, rules.Voter("r", 1, 10, "owner", None, "1")).reason == "no_room"
    spouse = rules.Voter("r2", 1, 10, "owner", "3", "501")
    key = rules.voter_key(rule, owner, b"secret-1")
    assert key == rules.voter_key(rule, spouse, b"secret-1") and key.startswith("h:") and len(key) == 66
    assert "501" not in key and key != rules.voter_key(rule, owner, b"secret-2")  # keyed: the room is not in clear
    assert rules.household(owner) == "1:10:3-501"
    same_flat = [("3-2", "501"), ("3号楼二单元", "501室"), ("三号楼二单元", "五〇一"), ("3栋2单元", "0501")]
    assert {rules.household(rules.Voter("r", 1, 10, "owner", b, r)) for b, r in same_flat} == {"1:10:3-2-501"}
    assert rules.household(rules.Voter("r", 1, 10, "owner", "东区3", "101")) != rules.household(
        rules.Voter("r", 1, 10, "owner", "西区3", "101"))
    person = rules.Rule(rule.areas, owners_only=False, per_household=False)
    assert rules.voter_key(person, owner, b"k") != rules.voter_key(person, spouse, b"k")


def test_templates_are_valid_and_follow_the_policy():
    for key, template in TEMPLATES.items():
        questions = build(key)
        assert rules.validate_questions(questions) == [], key
        kinds = [q["kind"] for q in questions]
        assert "multiple" in kinds and kinds[-1] == "comment" and not questions[-1]["required"]
        assert all(len(q["labels"]) == 5 for q in questions if q["kind"] == "rating")
    titles = [q["title"] for q in build("property") if q["kind"] == "rating"]
    assert titles == ["服务态度", "维修及时", "保洁", "绿化", "秩序维护", "收费公开"]
    assert [q["title"] for q in build("developer") if q["kind"] == "rating"] == ["房屋质量", "维修时限", "修缮效果"]
    assert build("property") is not build("property")
    assert rules.validate_questions([{"id": "q1", "kind": "rating", "title": "x", "labels": ["a"]}])


QUESTIONS = [RATING, {**build("property")[1]}, SINGLE, MULTI, COMMENT]


def known_rows():
    # estate 10 (community 1): ratings q1 5,4,2 ; estate 11 (community 1): 3,4 ; estate 20 (community 2): 1
    data = [(1, 10, 5, 4, 1, [1, 2]), (1, 10, 4, 4, 1, [2]), (1, 10, 2, 1, 2, None), (1, 11, 3, None, 3, [1]),
            (1, 11, 4, 5, 1, [1, 3]), (2, 20, 1, 1, 2, None)]
    return [tally.Row(c, e, {"q1": a, "q2": b, "q7": s, "q8": m, "q9": None}) for c, e, a, b, s, m in data]


def test_aggregates_on_a_known_data_set():
    result = tally.tally(QUESTIONS, known_rows(), {10: 10, 11: 4, 20: 2, 21: 5}, {10: 1, 11: 1, 20: 2, 21: 2})
    assert result["respondents"] == 6 and result["eligible"] == 21
    assert result["participation"] == round(6 / 21, 4)
    q1, q2, single, multi, comment = result["questions"]
    assert [d["count"] for d in q1["distribution"]] == [1, 1, 1, 2, 1]
    assert q1["mean"] == round(19 / 6, 4) and q1["satisfaction"] == 0.5 and q1["rated"] == 6
    assert q2["rated"] == 5 and q2["skipped"] == 1 and q2["satisfaction"] == 0.6 and q2["mean"] == 3.0
    assert [d["count"] for d in single["distribution"]] == [3, 2, 1]
    assert [d["count"] for d in multi["distribution"]][:3] == [3, 2, 1] and multi["answered"] == 4
    assert multi["distribution"][0]["share"] == 0.75
    assert comment["answered"] == 0 and comment["skipped"] == 6
    # pooled over both ratings: 11 answers, 4-5 in 6 of them
    assert result["satisfaction"] == round(6 / 11, 4)
    estates = {e["estate_id"]: e for e in result["estates"]}
    assert estates[10]["participation"] == 0.3 and estates[11]["participation"] == 0.5
    assert estates[21]["respondents"] == 0 and estates[21]["participation"] == 0.0 and estates[21]["mean"] is None
    communities = {c["community_id"]: c for c in result["communities"]}
    assert communities[1]["respondents"] == 5 and communities[1]["eligible"] == 14
    assert communities[2]["participation"] == round(1 / 7, 4) and communities[2]["satisfaction"] == 0.0
    by_estate = {b["id"]: b for b in q1["by_estate"]}
    assert by_estate[10]["satisfaction"] == round(2 / 3, 4) and by_estate[20]["mean"] == 1.0
    assert result["thin"] is True


def test_rankings_pool_campaigns_and_show_thin_samples():
    def scores(values):
        s = tally.Scores()
        for v in values:
            s.add(v)
        return s

    ranked = tally.rank([
        ("property_company", 1, "甲物业", 40, scores([5] * 30 + [2] * 10)),
        ("property_company", 2, "乙物业", 5, scores([5] * 5)),
        ("property_company", 1, "甲物业", 20, scores([4] * 20)),
        ("property_company", 3, "丙物业", 0, scores([])),
    ])
    assert [r["subject_name"] for r in ranked] == ["乙物业", "甲物业", "丙物业"]
    assert ranked[0]["thin"] and not ranked[1]["thin"] and ranked[1]["campaigns"] == 2
    assert ranked[1]["respondents"] == 60 and ranked[1]["satisfaction"] == round(50 / 60, 4)
    assert ranked[2]["rank"] is None and ranked[2]["satisfaction"] is None
