"""The pure parts: periods, configuration (defaults, file, environment, mistakes named), disclosure instances
and their classification, the composite's renormalisation, the residents' wording."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.localtime import LOCAL_TZ
from bot.settings import SettingsError
from handlers.scorecards import config, disclosures, periods, publish
from handlers.scorecards.figures import Component, composite
from tests.support import BASE


def test_periods():
    q3 = periods.parse("2026-Q3")
    assert (q3.start, q3.end, q3.label, q3.key) == (date(2026, 7, 1), date(2026, 10, 1), "2026年第3季度", "2026-Q3")
    assert periods.parse("2026-11").label == "2026年11月" and periods.parse("2026-h2").key == "2026-H2"
    assert periods.parse("2026").end == date(2027, 1, 1) and periods.parse("2026q1").key == "2026-Q1"
    assert [p.key for p in periods.parse("2026-02").previous(3)] == ["2025-12", "2026-01", "2026-02"]
    assert periods.parse("2026-Q1").shifted(-1).key == "2025-Q4"
    start, end = periods.parse("2026-11").bounds()
    assert start == datetime(2026, 11, 1, tzinfo=LOCAL_TZ) and end.day == 1 and end.month == 12
    for bad in ("2026-13", "2026-Q5", "26-11", "", "下个月", "1999"):
        with pytest.raises(periods.PeriodError, match="格式有误"):
            periods.parse(bad)


def test_period_of_a_moment_is_local():
    # 2026-09-30 17:00 UTC is 1 October 01:00 in Tianjin: the fourth quarter
    from datetime import timezone

    assert periods.containing(datetime(2026, 9, 30, 17, tzinfo=timezone.utc)).key == "2026-Q4"
    assert periods.containing(datetime(2026, 9, 30, 15, tzinfo=timezone.utc), "month").key == "2026-09"


def test_configuration_defaults_file_and_environment(tmp_path):
    c = config.from_settings(BASE)
    assert c.weights["property"]["survey"] == 40 and c.min_responses == 30 and "developer" not in \
        c.categories["property"]
    path = tmp_path / "sc.yaml"
    path.write_text("weights:\n  property: {survey: 60, disclosure: 0}\nmin_tickets: 5\n"
                    "categories:\n  developer: [developer, repair]\n", encoding="utf-8")
    c = config.from_settings(BASE.with_env({"LINLI_SCORECARD_FILE": str(path),
                                            "LINLI_SCORECARD_WEIGHTS_PROPERTY": "volume:7",
                                            "LINLI_SCORECARD_MIN_TICKETS": "8"}))
    assert c.weights["property"]["survey"] == 60 and c.weights["property"]["volume"] == 7
    assert c.weights["property"]["disclosure"] == 0 and c.min_tickets == 8
    assert c.categories["developer"] == ["developer", "repair"]


@pytest.mark.parametrize("extra, named", [
    ({"LINLI_SCORECARD_WEIGHTS_PROPERTY": "speed:5"}, "speed"),
    ({"LINLI_SCORECARD_WEIGHTS_DEVELOPER": "disclosure:5"}, "disclosure"),
    ({"LINLI_SCORECARD_WEIGHTS_PROPERTY": "survey"}, "survey:40"),
    ({"LINLI_SCORECARD_WEIGHTS_PROPERTY": "survey:-1"}, "survey"),
    ({"LINLI_SCORECARD_MIN_RESPONSES": "0"}, "LINLI_SCORECARD_MIN_RESPONSES"),
    ({"LINLI_SCORECARD_LATE_CREDIT": "2"}, "LINLI_SCORECARD_LATE_CREDIT"),
    ({"LINLI_SCORECARD_TREND_PERIODS": "3.5"}, "LINLI_SCORECARD_TREND_PERIODS"),
    ({"LINLI_SCORECARD_FILE": "/nonexistent/sc.yaml"}, "LINLI_SCORECARD_FILE"),
])
def test_configuration_mistakes_are_named(extra, named):
    with pytest.raises((config.ScorecardConfigError, SettingsError), match=named):
        config.from_settings(BASE.with_env(extra))


def test_all_weights_zero_is_refused():
    with pytest.raises(config.ScorecardConfigError, match="大于 0"):
        config.from_mapping({"weights": {"developer": {k: 0 for k in config.DEFAULT_WEIGHTS["developer"]}}})


def rule(frequency, due_day, since=date(2026, 1, 1)):
    return disclosures.Rule(1, 7, "finance", frequency, due_day, since)


def test_instances_fall_in_the_period_of_their_due_day():
    q4 = periods.parse("2026-Q4")
    assert [i.due_day for i in disclosures.instances(rule("monthly", 10), q4)] == [
        date(2026, 10, 10), date(2026, 11, 10), date(2026, 12, 10)]
    assert [i.due_day for i in disclosures.instances(rule("quarterly", 15), q4)] == [date(2026, 10, 15)]
    assert disclosures.instances(rule("quarterly", 15), periods.parse("2026-11")) == []
    yearly = disclosures.instances(rule("yearly", 90), periods.parse("2026"))
    assert [(i.window_start, i.due_day) for i in yearly] == [(date(2026, 1, 1), date(2026, 3, 31))]
    assert disclosures.instances(rule("monthly", 10, since=date(2026, 11, 11)), q4)[0].due_day == date(2026, 12, 10)


def test_classification():
    [oct_] = disclosures.instances(rule("monthly", 10), periods.parse("2026-10"))
    at = lambda d, h=9: datetime(2026, 10, d, h, tzinfo=LOCAL_TZ)  # noqa: E731
    now = datetime(2026, 11, 26, tzinfo=LOCAL_TZ)
    assert disclosures.classify(oct_, [(at(10, 23), 1)], now).status == "on_time"  # the whole due day counts
    assert disclosures.classify(oct_, [(at(11, 0), 2)], now).status == "late"
    first = disclosures.classify(oct_, [(at(3), 3), (at(20), 4)], now)
    assert (first.status, first.notice_id) == ("on_time", 3)  # the first one in the window decides
    before = datetime(2026, 9, 30, 23, tzinfo=LOCAL_TZ)
    assert disclosures.classify(oct_, [(before, 5)], now).status == "missing"  # before the window
    assert disclosures.classify(oct_, [], at(10, 12)).status == "pending"  # due day not over yet
    assert disclosures.classify(oct_, [], at(11, 0)).status == "missing"
    assert disclosures.problem("monthly", 29) and disclosures.problem("weekly", 1)
    assert disclosures.problem("yearly", 365) is None


def test_composite_renormalises_and_needs_the_survey():
    parts = [Component("survey", 80.0, 40, True), Component("response", None, 10, False, "无投诉"),
             Component("volume", 100.0, 5, True)]
    assert composite(parts) == round((80 * 40 + 100 * 5) / 45, 1)
    assert composite([Component("survey", None, 40, False), Component("volume", 100.0, 5, True)]) is None
    assert composite([Component("survey", None, 0, False), Component("volume", 90.0, 5, True)]) == 90.0


def test_resident_wording_shows_only_published_groups():
    figures = {"period_label": "2026年10月", "area": "友谊路街道", "estates": {"3": {"name": "谊景花园",
               "tickets": {"received": 0, "per_thousand": 0.0, "response_rate": None, "resolution_rate": None,
                           "satisfaction_rate": None}}, "4": {"name": "友谊新城"}},
               "overall": {"tickets": {"received": 5, "per_thousand": 2.44, "response_rate": 80.0,
                                       "resolution_rate": 60.0, "satisfaction_rate": None}}}
    text = publish.resident_text("property", "津安物业", figures, datetime(2026, 11, 2, tzinfo=LOCAL_TZ), 3)
    assert "受理投诉 5 件（每千户 2.4 件），响应率 80.0%，解决率 60.0%，办结后满意率 —" in text
    assert "其中谊景花园：本期没有投诉" in text and "满意度" not in text and "综合得分" not in text
    with pytest.raises(publish.PublishError):
        publish.check_groups("property", ["everything"])
