"""Every figure of the scorecards on the known data set (tests/scorecards/dataset.py), worked out by hand here from
the rows, on SQLite and PostgreSQL; the SQL ticket counts against the tickets' own `stats.compute`; flags and
ranks; jurisdiction; the trend and the previous period."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from handlers.scorecards import periods, service
from handlers.scorecards.config import ScorecardConfig
from handlers.tickets.rules import CATEGORIES
from storage.models import Community, Staff, Street
from tests.scorecards.dataset import NOW

OCT = periods.parse("2026-10")
SMALL = ScorecardConfig(min_responses=3, min_tickets=3)  # the data set is small: thresholds lowered


async def board(services, kind="property", period=OCT, config=SMALL, communities=None, **kw):
    async with services.db.transaction() as session:
        return await service.build(session, kind, period, communities, config, NOW, **kw)


async def street_ids(services, code: str) -> list[int]:
    from sqlalchemy import select

    async with services.db.transaction() as session:
        return list(await session.scalars(select(Community.id).join(Street).where(Street.code == code)))


def by_name(b) -> dict:
    return {c.subject_code: c for c in b.cards}


async def test_company_figures_by_hand(services, data):
    cards = by_name(await board(services))
    ja = cards["WY-JA"]
    # estates of 津安 in view: 谊景花园 1286 + 友谊新城 764 + 梅江湾 588 households
    assert ja.overall.households == 1286 + 764 + 588
    f = ja.overall.tickets.figures
    # October tickets against 津安 (not the developer ticket #8, not #11 filed on 30 September, not 海河畔's #9):
    # #1 #2 #3 #4 #5 #6 at 谊景花园, #7 at 友谊新城, #10 at 梅江湾
    assert f.received == 8
    assert (f.rejected, f.merged, f.accepted) == (1, 1, 8 - 1 - 1)  # #3 refused, #4 merged
    assert f.open == 2  # #5 assigned, #6 escalated
    # every first sign deadline (filed + 1 day) is past: 8 due; in time: #1 2h, #3 1h, #4 1h, #5 5h, #7 3h, #10 20h
    assert (f.response_due, f.responded_in_time, f.response_rate) == (8, 6, 75.0)
    # resolved (not merged): #1 3d, #2 10d, #7 1d, #10 20d; in time: all but #2 (limit 9d)
    assert (f.resolved, f.resolved_in_time, f.resolution_rate, f.on_time_rate) == (4, 3, round(4 / 6 * 100, 1), 75.0)
    assert f.settled == {"community": 2, "street": 1, "district": 1}
    # rated: #1 → 5, #2 → 2, #10 → 1; satisfied (≥4): #1
    assert (f.rated, f.satisfied, f.satisfaction_rate) == (3, 1, round(1 / 3 * 100, 1))
    assert f.median_resolve_days == (3 + 10) / 2  # days 1, 3, 10, 20
    assert ja.overall.tickets.escalated == 3  # accepted and above the community: #2, #6 (street), #10 (district)
    assert ja.overall.per_thousand() == pytest.approx(8 / 2638 * 1000)

    s = ja.overall.survey
    # campaign A (谊景花园 4 answers of 10 eligible, 友谊新城 2 of 5) and C (梅江湾 2 of 4); B is older than A for
    # 谊景花园 and F closed after October: neither counts
    assert {(src.campaign.id, src.estate_id) for src in s.sources} == {
        (data["campaigns"]["A"], ja.estates[0].estate_id), (data["campaigns"]["A"], ja.estates[1].estate_id),
        (data["campaigns"]["C"], ja.estates[2].estate_id)}
    assert (s.respondents, s.eligible) == (4 + 2 + 2, 10 + 5 + 4)
    assert s.participation == pytest.approx(round(8 / 19, 4))
    # ratings (q1–q6) at or above 4, and their sum, answer by answer:
    #   谊景花园 5 5 4 4 3 5 → 5, 26 | 4 4 4 4 4 4 → 6, 24 | 2 3 2 1 3 2 → 0, 13 | 3 4 5 2 4 4 → 4, 22
    #   友谊新城 5 5 5 5 5 5 → 6, 30 | 1 2 3 4 5 4 → 3, 19
    #   梅江湾   4 4 4 4 4 4 → 6, 24 | 3 3 3 3 3 3 → 0, 18
    satisfied, total, rated = 5 + 6 + 0 + 4 + 6 + 3 + 6 + 0, 26 + 24 + 13 + 22 + 30 + 19 + 24 + 18, 8 * 6
    assert (s.scores.rated, s.scores.satisfied, s.scores.total) == (rated, satisfied, total)
    assert s.rate == satisfied / rated == 0.625 and s.mean == pytest.approx(176 / 48)
    q1 = s.questions["服务态度"]  # q1 answers: 5 4 2 3 | 5 1 | 4 3
    assert (q1.rated, q1.satisfied, q1.total) == (8, 4, 5 + 4 + 2 + 3 + 5 + 1 + 4 + 3)

    d = ja.overall.disclosure
    # 谊景花园 收支 monthly by the 10th: community notice of 8 October → on time;
    # 友谊新城 物业服务 quarterly by the 15th (Q4): estate notice of 20 October (since corrected) → late;
    # 梅江湾 收支 monthly: only a withdrawn notice → missing
    assert (d.due, d.on_time, d.late, d.missing, d.pending) == (3, 1, 1, 1, 0)

    volume = (1 - (8 / 2638 * 1000) * 30 / 31 / 20) * 100  # per 1,000 households per 30 days; 20 scores 0
    parts = {"survey": 62.5, "response": 75.0, "resolution": 4 / 6 * 100, "ticket_satisfaction": 1 / 3 * 100,
             "volume": volume, "escalation": (1 - 3 / 6) * 100, "disclosure": (1 + 0.5 * 1) / 3 * 100}
    assert {c.key: c.value for c in ja.components} == {k: round(v, 2) for k, v in parts.items()}
    weights = {"survey": 40, "response": 10, "resolution": 15, "ticket_satisfaction": 10, "volume": 5,
               "escalation": 5, "disclosure": 15}
    assert ja.score == round(sum(parts[k] * w for k, w in weights.items()) / 100, 1) == 60.1


async def test_estate_rows_by_hand(services, data):
    ja = by_name(await board(services, detail=True))["WY-JA"]
    rows = {r.estate: r for r in ja.estates}
    assert list(rows) == ["谊景花园", "友谊新城", "梅江湾"]
    yj = rows["谊景花园"].part
    assert (yj.tickets.figures.received, yj.tickets.figures.accepted, yj.tickets.figures.resolved) == (6, 4, 2)
    assert yj.tickets.figures.median_resolve_days == (3 + 10) / 2
    assert (yj.survey.respondents, yj.survey.eligible, yj.survey.rate) == (4, 10, 15 / 24)
    assert yj.survey.mean == pytest.approx(85 / 24)
    assert (yj.disclosure.on_time, yj.disclosure.due) == (1, 1)
    xc = rows["友谊新城"].part
    assert (xc.tickets.figures.received, xc.survey.respondents, xc.survey.rate) == (1, 2, 9 / 12)
    assert (xc.disclosure.late, xc.disclosure.due) == (1, 1)
    mj = rows["梅江湾"].part
    assert (mj.survey.respondents, mj.survey.rate, mj.disclosure.missing) == (2, 6 / 12, 1)
    assert rows["梅江湾"].flags == ["thin"]  # 2 answers < 3


async def test_ranks_and_flags(services, data):
    b = await board(services)
    order = [(c.subject_code, c.rank, c.flags) for c in b.cards]
    # 梅江嘉园: three answers all 5 → survey 100, no tickets → volume 100: (40×100 + 5×100) / 45 = 100
    assert order[0] == ("WY-MJ", 1, []) and b.cards[0].score == 100.0
    assert order[1] == ("WY-JA", 2, [])
    # no answers at all: flagged, no composite, not ranked (listed after the ranked ones)
    rest = {code: (rank, flags) for code, rank, flags in order[2:]}
    assert rest == {"WY-HH": (None, ["no_responses"]), "WY-JY": (None, ["no_responses"])}
    assert by_name(b)["WY-HH"].score is None and by_name(b)["WY-HH"].ranked_of == 2
    # with the default threshold (30 answers) nobody here is ranked: thin samples are flagged, never ranked
    strict = by_name(await board(services, config=ScorecardConfig(min_tickets=3)))
    assert strict["WY-JA"].flags == ["thin"] and strict["WY-JA"].rank is None
    assert strict["WY-JA"].score == 60.1  # still computed, shown with the flag
    assert strict["WY-MJ"].rank is None and strict["WY-HH"].flags == ["no_responses"]


async def test_ties_share_a_rank():
    from handlers.scorecards.figures import Card, Part, rank

    cards = [Card("property", i, name, "", Part(), score=score)
             for i, (name, score) in enumerate([("甲", 80.0), ("乙", 90.0), ("丙", 80.0), ("丁", 70.0)], 1)]
    cards.append(Card("property", 9, "戊", "", Part(), score=None, flags=["no_responses"]))
    ranked = rank(cards)
    assert [(c.subject_name, c.rank) for c in ranked] == [("乙", 1), ("丙", 2), ("甲", 2), ("丁", 4), ("戊", None)]


async def test_developer_card(services, data):
    hx = by_name(await board(services, "developer"))["KF-HX"]
    f = hx.overall.tickets.figures
    # only the 开发商质量 ticket #8 (友谊新城, built by 河西建投) counts against the developer
    assert (f.received, f.resolved, f.rated, f.satisfied) == (1, 1, 1, 1)
    assert hx.overall.households == 764 + 958  # 友谊新城 and 平江南里
    # campaign D, developer template (q1–q3 ratings): 4 4 4 → 3 satisfied, 12 | 2 3 5 → 1, 10
    s = hx.overall.survey
    assert (s.respondents, s.scores.rated, s.scores.satisfied, s.scores.total) == (2, 6, 4, 22)
    assert hx.overall.disclosure is None and "disclosure" not in {c.key for c in hx.components}
    assert hx.flags == ["thin"]


async def test_jurisdiction_limits_the_estates(services, data):
    streets = await street_ids(services, "HX-YYL")
    cards = by_name(await board(services, communities=streets))
    assert set(cards) == {"WY-JA", "WY-HH", "WY-JY"}  # 梅江嘉园 serves no estate of 友谊路街道
    ja = cards["WY-JA"]
    assert [r.estate for r in ja.estates] == ["谊景花园", "友谊新城"]  # not 梅江湾 (梅江街道)
    f = ja.overall.tickets.figures
    assert (f.received, f.accepted) == (7, 7 - 2)  # #10 is in 梅江街道
    s = ja.overall.survey
    assert (s.respondents, s.eligible, s.scores.satisfied, s.scores.rated) == (6, 15, 15 + 9, 24 + 12)
    d = ja.overall.disclosure
    assert (d.due, d.on_time, d.late, d.missing) == (2, 1, 1, 0)
    nankai = await street_ids(services, "NK-XF")
    assert (await board(services, communities=nankai)).cards == []


async def test_visible_communities_select_is_accepted(services, data):
    from sqlalchemy import select

    from handlers.console.authz import load_scope, visible_communities

    async with services.db.transaction() as session:
        staff = (await session.execute(select(Staff).where(Staff.username == "yijing"))).scalar_one()
        scope = await load_scope(session, staff)
        b = await service.build(session, "property", OCT, visible_communities(scope), SMALL, NOW)
    cards = by_name(b)
    assert set(cards) == {"WY-JA", "WY-HH"} and [r.estate for r in cards["WY-HH"].estates] == ["谊安里"]


async def test_later_periods_windows_and_pending(services, data):
    nov = by_name(await board(services, period=periods.parse("2026-11")))["WY-JA"]
    # November: campaign F (closed 10 November) replaces A for 谊景花园; A still counts for 友谊新城
    assert {src.campaign.title[-1] for src in nov.overall.survey.sources} == {"F", "A", "C"}
    # 收支 for November was due on the 10th at 谊景花园 and 梅江湾: nothing published → missing
    d = nov.overall.disclosure
    assert (d.due, d.missing, d.pending) == (2, 2, 0)
    dec = by_name(await board(services, period=periods.parse("2026-12")))["WY-JA"]
    assert (dec.overall.disclosure.due, dec.overall.disclosure.pending) == (0, 2)  # not due yet: not counted


async def test_trend_and_previous_period(services, data):
    b = await board(services, with_previous=True)
    ja = by_name(b)["WY-JA"]
    # September: survey B (谊景花园, one answer of all 1s) + C (梅江湾: 6 of 12) → 6/18; ticket #11 only
    # (below 3 tickets: rates left out); volume 1 ticket per 2638 households over 30 days; disclosures:
    # 谊景花园 收支 due 10 September, published 28 September → late; 梅江湾 → missing: (0 + 0.5) / 2
    volume = (1 - (1 / 2638 * 1000) * 30 / 30 / 20) * 100
    september = round((40 * 6 / 18 * 100 + 5 * volume + 15 * 0.5 / 2 * 100) / (40 + 5 + 15), 1)
    assert ja.previous_score == september and ja.change == round(60.1 - september, 1)
    async with services.db.transaction() as session:
        points = await service.trend(session, "property", ja.subject_id, OCT, None,
                                     ScorecardConfig(min_responses=3, min_tickets=3, trend_periods=3), NOW, ja)
    assert [p.key for p, _ in points] == ["2026-08", "2026-09", "2026-10"]
    assert points[2][1] is ja and points[1][1].score == september
    assert points[0][1].overall.tickets.figures.received == 0


async def test_settled_campaigns_are_pooled_once(services, data):
    """With a `store` (the console's GET pages: their own short write transaction), finished campaigns' answers
    are aggregated once into scorecard_survey_totals and read from there after; the figures are the same either
    way, and a campaign closed within the hour is read live, not stored."""
    from sqlalchemy import func, select, update

    from handlers.scorecards import queries
    from storage.scorecard_models import ScorecardSurveyTotal
    from storage.survey_models import Survey, SurveyResponse

    async def store(rows):
        async with services.db.transaction() as writer:
            await queries.store_totals(writer, rows)

    async with services.db.reading() as session:  # as a console page reads
        first = by_name(await service.build(session, "property", OCT, None, SMALL, NOW, store=store))["WY-JA"]
    assert first.score == 60.1
    async with services.db.transaction() as session:
        stored = (await session.execute(select(ScorecardSurveyTotal.survey_id, func.count())
                                        .group_by(ScorecardSurveyTotal.survey_id))).all()
        # the stored rows are what counts now: change the answers behind them and nothing moves
        await session.execute(update(SurveyResponse).values(answers={"q1": 1}))
    # every finished campaign of the window (B too, though A supersedes it): its estates + the marker row
    assert {survey_id: n for survey_id, n in stored} == {data["campaigns"]["A"]: 3, data["campaigns"]["B"]: 2,
                                                         data["campaigns"]["C"]: 2, data["campaigns"]["G"]: 2}
    again = by_name(await board(services))["WY-JA"]
    assert (again.overall.survey.scores.satisfied, again.score) == (first.overall.survey.scores.satisfied, 60.1)
    async with services.db.transaction() as session:  # a campaign that closed a minute ago: live, not stored
        await session.execute(update(Survey).where(Survey.id == data["campaigns"]["F"])
                              .values(closed_at=NOW - timedelta(minutes=1)))
    async with services.db.reading() as session:
        nov = by_name(await service.build(session, "property", periods.parse("2026-11"), None, SMALL, NOW,
                                          store=store))["WY-JA"]
    assert nov.overall.survey.questions["服务态度"].rated == 1 + 2 + 2  # F read live: its one answer, now q1 only
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).where(
            ScorecardSurveyTotal.survey_id == data["campaigns"]["F"])) == 0


async def test_sources_trace_every_ticket(services, data):
    b = await board(services)
    ja = by_name(b)["WY-JA"]
    async with services.db.transaction() as session:
        src = await service.sources(session, b, ja, None, SMALL, NOW)
    numbers = {row.number for row, _ in src.tickets}
    assert numbers == {f"JF2026TEST-{n:04d}" for n in (1, 2, 3, 4, 5, 6, 7, 10)} and src.tickets_total == 8
    marks = [m for _, m in src.tickets]
    f = ja.overall.tickets.figures
    for key, expected in [("accepted", f.accepted), ("response_due", f.response_due),
                          ("responded_in_time", f.responded_in_time), ("resolved", f.resolved),
                          ("resolved_in_time", f.resolved_in_time), ("rated", f.rated),
                          ("satisfied", f.satisfied), ("escalated", ja.overall.tickets.escalated)]:
        assert sum(m[key] for m in marks) == expected, key
    # by due day: 谊景花园 and 梅江湾 (10 October), then 友谊新城 (15 October)
    assert [(o.status, o.notice_id) for o in src.disclosures] == [
        ("on_time", data["notices"]["fin-yj"]), ("missing", None), ("late", data["notices"]["prop-yj02"])]
    assert len(src.campaigns) == 3


async def test_sql_counts_equal_the_tickets_own_statistics(services):
    """Random tickets (the tickets' benchmark generator): per company, the SQL aggregates give exactly what
    `handlers.tickets.stats.compute` gives on the same tickets."""
    from handlers.tickets import bench, stats

    async with services.db.transaction() as session:
        from sqlalchemy import select

        ids = list(await session.scalars(select(Community.id)))
        await bench.seed(session, 600, ids, random.Random(7), now=NOW)
    period = periods.Period(periods.parse("2026-09").start, periods.parse("2026-12").start, "quarter")
    every = ScorecardConfig(categories={"property": list(CATEGORIES), "developer": ["developer"]})
    cards = by_name(await board(services, period=period, config=every))
    async with services.db.transaction() as session:
        facts = await stats.load_facts(session, None, *period.bounds())
    checked = 0
    for code, card in cards.items():
        mine = [x for x in facts if x.company == card.subject_name]
        expected = stats.compute(mine, NOW)
        got = card.overall.tickets.figures
        for name in ("received", "accepted", "rejected", "merged", "open", "response_due", "responded_in_time",
                     "resolved", "resolved_in_time", "rated", "satisfied", "median_resolve_days"):
            assert getattr(got, name) == getattr(expected, name), (code, name)
        assert got.settled == expected.settled
        assert (got.response_rate, got.resolution_rate, got.satisfaction_rate) == (
            expected.response_rate, expected.resolution_rate, expected.satisfaction_rate)
        checked += expected.received
    assert checked == sum(1 for x in facts if x.company)  # every ticket with a company was compared
