

def test_period_choices_offer_recent_periods_newest_first_and_keep_the_chosen_one():
    from datetime import datetime, timezone

    from handlers.scorecards import periods as _periods

    now = datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc)
    groups = dict(_periods.choices(now))
    assert groups["季度"][0] == ("2026-Q4", "2026年第4季度") and len(groups["季度"]) == 8
    assert groups["月份"][0] == ("2026-12", "2026年12月") and groups["年度"][-1][0] == "2024"
    old = _periods.parse("2019-Q1")
    assert _periods.choices(now, old)[0] == ("所选", [("2019-Q1", "2019年第1季度")])
