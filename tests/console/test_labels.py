"""What staff read: percentages that never hide progress, recorded actors by name (never `staff:<username>`),
charts with a visible legend, and a 500-character question that does not widen the Q&A table."""
from __future__ import annotations

from handlers.console import charts
from handlers.console.render import humanize, percent, who


def test_percentages_keep_one_decimal_without_hiding_progress():
    assert percent(1, 2462) == "0.04%" and percent(0, 2462) == "0.0%" and percent(1, 300000) == "<0.01%"
    assert percent(2461, 2462) == "99.9%" and percent(2462, 2462) == "100.0%" and percent(1, 3) == "33.3%"
    assert percent(1, 0) == "—"
    assert "0.04%" in charts.bar_chart([("谊景社区", 100 / 2462)], unit="%", max_value=100)


def test_recorded_actors_read_as_names():
    names = {"yijing": "谊景社区演示账号"}
    context = {"staff_names": names}
    assert who(context, "staff:yijing") == "谊景社区演示账号"
    assert who(context, "staff:gone") == "工作人员 gone" and who(context, None) == "—"
    assert who(context, "survey:1") == "系统（满意度调查）" and who(context, "system:reports") == "系统（月度报告）"
    assert humanize("staff:yijing 于 11-20 提交", names) == "谊景社区演示账号 于 11-20 提交"


def test_charts_carry_a_visible_legend():
    line = charts.line_chart([("11-19", 1), ("11-20", 3)], title="近 14 天每日新绑定居民")
    bars = charts.bar_chart([("谊景社区", 12.5)], title="各社区户绑定率", unit="%")
    for chart in (line, bars):
        assert chart.startswith('<p class="chart-legend"><span class="chart-key"></span>')
    assert "近 14 天每日新绑定居民</p>" in line
