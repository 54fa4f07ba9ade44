"""The pure rules of owners' votes (Civil Code art. 278): both measures, both thresholds, the headcount of
co-owners and of owners with several rooms, exact area arithmetic, and the per-city thresholds file."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from handlers.owners import rules
from handlers.owners.rules import BallotFact, RoomShare, Threshold

RULE = rules.load_rule("tianjin")


def room(i: int, area: str, holder: str | None = None, building: str = "1") -> RoomShare:
    return RoomShare(i, building, Decimal(area), holder or str(i))


def ballots(*pairs: tuple[int, str]) -> list[BallotFact]:
    return [BallotFact(r, c, n) for n, (r, c) in enumerate(pairs)]


def test_thresholds_strict_and_inclusive():
    half, two_thirds = Threshold(Fraction(1, 2), strict=True), Threshold(Fraction(2, 3))
    assert not half.met(50, 100) and half.met(Fraction(5001, 100), 100)
    assert two_thirds.met(2, 3) and not two_thirds.met(Fraction(199999, 100000), 3)
    assert not two_thirds.met(0, 0)  # nothing to count is never a quorum


def test_area_passes_but_headcount_fails():
    # one large flat (yes) against two small ones (no): area 60% yes, heads 1 of 3
    rooms = [room(1, "120.00"), room(2, "40.00"), room(3, "40.00")]
    result = rules.tally(rooms, ballots((1, "yes"), (2, "no"), (3, "no")), "ordinary", RULE)
    assert result.quorum and result.pass_area and not result.pass_heads and not result.passed
    assert "人数" in result.verdict()


def test_headcount_passes_but_area_fails():
    rooms = [room(1, "150.00"), room(2, "40.00"), room(3, "40.00")]
    result = rules.tally(rooms, ballots((1, "no"), (2, "yes"), (3, "yes")), "ordinary", RULE)
    assert result.pass_heads and not result.pass_area and not result.passed
    assert "面积" in result.verdict()


def test_exactly_half_does_not_pass_an_ordinary_matter():
    rooms = [room(1, "50.00"), room(2, "50.00")]
    result = rules.tally(rooms, ballots((1, "yes"), (2, "no")), "ordinary", RULE)
    assert not result.pass_area and not result.pass_heads


def test_special_matter_needs_three_quarters():
    rooms = [room(i, "100.00") for i in range(1, 5)]
    three_of_four = ballots((1, "yes"), (2, "yes"), (3, "yes"), (4, "no"))
    assert rules.tally(rooms, three_of_four, "special", RULE).passed  # exactly 3/4: at least, passes
    two_of_three = ballots((1, "yes"), (2, "yes"), (3, "no"))
    ordinary = rules.tally(rooms, two_of_three, "ordinary", RULE)
    special = rules.tally(rooms, two_of_three, "special", RULE)
    assert ordinary.passed and not special.passed


def test_quorum_on_both_measures():
    rooms = [room(1, "200.00"), room(2, "10.00"), room(3, "10.00")]
    # only the big room votes: area 90.9% but 1 of 3 owners
    result = rules.tally(rooms, ballots((1, "yes")), "ordinary", RULE)
    assert result.quorum_area and not result.quorum_heads and not result.passed
    assert "人数" in result.verdict() and "无效" in result.verdict()


def test_abstentions_participate_and_count_against():
    rooms = [room(i, "100.00") for i in range(1, 4)]
    result = rules.tally(rooms, ballots((1, "yes"), (2, "abstain"), (3, "abstain")), "ordinary", RULE)
    assert result.quorum and not result.passed
    assert result.heads.voted == 3 and result.heads.by_choice["yes"] == 1


def test_owner_of_several_rooms_counts_once_by_head():
    rooms = [room(1, "80.00", "7"), room(2, "60.00", "7"), room(3, "70.00", "8")]
    result = rules.tally(rooms, ballots((1, "yes"), (2, "yes"), (3, "no")), "ordinary", RULE)
    assert result.heads.total == 2 and result.heads.voted == 2
    assert result.heads.by_choice == {"yes": 1, "no": 1, "abstain": 0}
    assert result.area.by_choice["yes"] == Fraction(140) and not result.pass_heads


def test_holder_with_split_paper_ballots_follows_the_larger_area_then_the_earliest():
    rooms = [room(1, "80.00", "7"), room(2, "60.00", "7")]
    assert rules.holder_choices(rooms, ballots((2, "no"), (1, "yes"))) == {"7": "yes"}
    even = [room(1, "60.00", "7"), room(2, "60.00", "7")]
    assert rules.holder_choices(even, ballots((2, "no"), (1, "yes"))) == {"7": "no"}


def test_co_owners_are_one_holder_and_the_first_ballot_of_a_room_counts():
    key = rules.holder_key([5, 3, 5])
    assert key == "3,5" and rules.holder_key([]) == rules.UNLISTED
    rooms = [room(1, "90.00", key), room(2, "90.00")]
    result = rules.tally(rooms, ballots((1, "no"), (1, "yes"), (2, "yes")), "ordinary", RULE)
    assert result.area.voted == 180 and result.area.by_choice["no"] == 90 and result.heads.total == 2


def test_unlisted_rooms_count_as_one_owner():
    rooms = [room(1, "90.00", rules.UNLISTED), room(2, "90.00", rules.UNLISTED), room(3, "90.00")]
    assert rules.tally(rooms, [], "ordinary", RULE).heads.total == 2


def test_area_arithmetic_is_exact():
    rooms = [room(i, "0.10") for i in range(1, 31)]  # 30 × 0.10 = 3.00 exactly (binary floats would drift)
    result = rules.tally(rooms, ballots(*[(i, "yes") for i in range(1, 21)]), "ordinary", RULE)
    assert result.area.total == 3 and result.area.voted == 2 and result.quorum_area  # exactly 2/3
    assert result.as_dict()["area"]["total"] == "3.00"


@pytest.mark.parametrize("raw, expected", [("89.5", "89.50"), ("120", "120.00"), (89.55, "89.55"),
                                           ("75.30㎡", "75.30"), ("1.000", "1.00")])
def test_parse_area_accepts(raw, expected):
    assert rules.parse_area(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "0", "-3", "12.345", "abc", "1e3", None, True, "999999.99", "٣"])
def test_parse_area_refuses(raw):
    assert rules.parse_area(raw) is None


def test_phones_normalised_and_masked():
    assert rules.normal_phone("+86 138-1234-5678") == "13812345678"
    assert rules.normal_phone(13812345678) == "13812345678"
    assert rules.normal_phone("022-23456789") == "02223456789"
    assert rules.normal_phone("12") is None and rules.normal_phone("１３８") is None
    assert rules.mask_phone("13812345678") == "138****5678"
    assert "2345" not in (rules.mask_phone("02223456789") or "")


def test_choices():
    assert rules.parse_choice("1") == "yes" and rules.parse_choice("不同意") == "no"
    assert rules.parse_choice("弃权。") == "abstain" and rules.parse_choice("也许") is None


def test_turnout_by_building_shows_no_choices():
    rooms = [room(1, "80.00", "1", "2"), room(2, "60.00", "2", "2"), room(3, "70.00", "3", "10")]
    rows = rules.turnout(rooms, [1, 3])
    assert [t.building for t in rows] == ["2", "10"]
    assert rows[0].as_dict() == {"building": "2", "rooms": 2, "voted_rooms": 1, "area": "140.00",
                                 "voted_area": "80.00", "heads": 2, "voted_heads": 1}


def test_rule_stored_with_result_recounts_the_same():
    rooms = [room(1, "120.00"), room(2, "40.00"), room(3, "40.00")]
    cast = ballots((1, "yes"), (2, "yes"), (3, "no"))
    stored = rules.tally(rooms, cast, "special", RULE).as_dict()
    rule, kind = rules.rule_from_dict(stored["rule"])
    assert rules.tally(rooms, cast, kind, rule).as_dict() == stored
    assert "四分之三" in RULE.describe("special") and "三分之二" in RULE.describe("ordinary")


def test_thresholds_configurable_per_city():
    custom = rules.parse_rules({"cities": {"x": {
        "quorum_area": {"share": "1/2"}, "quorum_heads": {"share": "1/2"},
        "ordinary": {"share": "1/2", "strict": True}, "special": {"share": "2/3"}}}})["x"]
    rooms = [room(i, "100.00") for i in range(1, 4)]
    cast = ballots((1, "yes"), (2, "yes"), (3, "no"))
    assert rules.tally(rooms, cast, "special", custom).passed
    assert not rules.tally(rooms, cast, "special", RULE).passed
    with pytest.raises(rules.RuleError):
        rules.parse_rules({"cities": {"x": {"quorum_area": {"share": "3/2"}}}})
    with pytest.raises(rules.RuleError):
        rules.load_rule("atlantis")


def test_election_picks_parsed():
    assert rules.parse_picks("1 3", 4, 2) == "c:0,2" and rules.parse_picks("3、1", 4, 3) == "c:0,2"
    assert rules.parse_picks("弃权", 4, 2) == "abstain"
    assert rules.parse_picks("1 2 3", 4, 2) is None  # more than the seats
    assert rules.parse_picks("5", 4, 2) is None and rules.parse_picks("1 1", 4, 2) is None
    assert rules.valid_election_choice("c:0,2", 4, 2) and not rules.valid_election_choice("c:2,0", 4, 2)
    assert not rules.valid_election_choice("yes", 4, 2)


def test_election_each_candidate_needs_the_double_majority_and_seats_go_by_votes():
    rooms = [room(1, "150.00"), room(2, "40.00"), room(3, "40.00"), room(4, "40.00")]
    cast = ballots((1, "c:0"), (2, "c:1,2"), (3, "c:1,2"), (4, "c:1"))
    result = rules.election(rooms, cast, ["甲", "乙", "丙"], 2, RULE)
    by_name = {c["name"]: c for c in result.candidates}
    # 甲: area 150 of 270 (55.6%) but 1 of 4 owners; 乙: 3 owners, 120 m² (44.4%); 丙: 2 owners (not more than half)
    assert by_name["甲"]["pass_area"] and not by_name["甲"]["pass_heads"]
    assert by_name["乙"]["pass_heads"] and not by_name["乙"]["pass_area"]
    assert result.elected == [] and "无人当选" in result.verdict()
    six = [room(i, "100.00") for i in range(1, 5)] + [room(5, "200.00"), room(6, "200.00")]
    cast = ballots((1, "c:0,1"), (2, "c:0,1"), (3, "c:0,2"), (4, "c:0,2"), (5, "c:1,2"), (6, "c:1,2"))
    result = rules.election(six, cast, ["甲", "乙", "丙"], 2, RULE)
    # 4 of 6 owners each; 甲's 400 m² is exactly half of the 800 voted: not more than half
    assert [(c["heads"], c["pass_area"], c["pass_heads"]) for c in result.candidates] == [
        (4, False, True), (4, True, True), (4, True, True)]
    assert result.elected == ["乙", "丙"]
    assert result.as_dict()["candidates"][0]["area"] == "400.00" and "当选：乙、丙" == result.verdict()
    assert rules.election(six, cast[:3], ["甲", "乙", "丙"], 2, RULE).elected == []  # no quorum
