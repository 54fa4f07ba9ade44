"""Ticket trends on the figures page: buckets by day, week or month (pure), and the chart on the page."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from handlers import broadcasts, tickets
from handlers.console.charts import multi_line_chart
from handlers.tickets import console_trends
from handlers.tickets.stats import Fact
from tests.console.conftest import build_world
from tests.tickets.test_console import file

D = timedelta(days=1)


def fact(created: datetime, resolved: datetime | None = None, closed: str | None = None) -> Fact:
    return Fact("repair", "closed" if resolved else "received", created, created + D, None, resolved, "community",
                created + 7 * D, None, closed)


def test_daily_buckets_count_filed_and_resolved_by_local_filing_day():
    late_evening = datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc)  # 01:00 on 11-03 in Tianjin
    facts = [fact(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc), resolved=late_evening),
             fact(late_evening), fact(late_evening, resolved=late_evening + D),
             fact(late_evening, resolved=late_evening, closed="merged")]
    t = console_trends.trend(facts, date(2026, 11, 1), date(2026, 11, 5))
    assert t.unit == "日" and t.labels == ["11-01", "11-02", "11-03", "11-04", "11-05"]
    assert t.received == [0, 1, 3, 0, 0] and t.resolved == [0, 1, 1, 0, 0]


def test_weeks_and_months_for_longer_periods():
    facts = [fact(datetime(2026, 3, 4, 2, tzinfo=timezone.utc)), fact(datetime(2026, 3, 9, 2, tzinfo=timezone.utc))]
    weeks = console_trends.trend(facts, date(2026, 3, 1), date(2026, 4, 30))
    assert weeks.unit == "周" and weeks.labels[:3] == ["02-23", "03-02", "03-09"]
    assert weeks.received[:3] == [0, 1, 1]
    months = console_trends.trend(facts, date(2026, 1, 1), date(2026, 12, 31))
    assert months.unit == "月" and len(months.labels) == 12 and months.received[2] == 2 and months.labels[2] == "2026-03"


def test_multi_line_chart_draws_each_series_with_a_legend():
    svg = str(multi_line_chart([("受理", [("a", 1), ("b", 3)]), ("其中已办结", [("a", 0), ("b", 2)])]))
    assert svg.count("<polyline") == 2 and 'class="chart-line s1"' in svg and "其中已办结" in svg
    assert "暂无数据" in str(multi_line_chart([("受理", [("a", 0)])]))


@pytest.fixture
async def world(aiohttp_client, sqlite_url, monkeypatch):
    return await build_world(aiohttp_client, sqlite_url, plugins=[broadcasts.console, tickets.console])


async def test_stats_page_shows_the_trend(world):
    await file(world)
    await file(world, "PJ", "平江南里停车位被占")
    await world.login("yijing")
    page = await (await world.client.get("/console/tickets/stats?since=2026-11-01&until=2026-11-30")).text()
    assert "趋势（按受理日期，每日）" in page and "本期受理 1 件，其中已办结 0 件" in page  # only their community
    assert page.count("<polyline") == 2
    await world.login("youyilu")
    page = await (await world.client.get("/console/tickets/stats?since=2026-11-01&until=2026-11-30")).text()
    assert "本期受理 2 件" in page
