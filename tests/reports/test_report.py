"""The monthly report on a known data set (October 2026), on SQLite and PostgreSQL: every ticket, survey and
disclosure figure equals what the features' own functions give for the same place and month (tickets:
`stats.compute` over `stats.load_facts`; surveys: `surveys.stats.results`; disclosures: the scorecards' board), and
the report's own figures (meetings, residents, questions, last month, rankings) are the ones worked out by hand."""
from __future__ import annotations

from sqlalchemy import select

from handlers.console.authz import Scope
from handlers.reports import build, scope, service
from handlers.scorecards import service as scorecards
from handlers.scorecards.config import from_settings
from handlers.scorecards.periods import parse as parse_period
from handlers.surveys import stats as survey_stats
from handlers.tickets import stats
from storage.models import StaffLevel
from storage.survey_models import Survey
from tests.reports.conftest import NOW, OCT

ADMIN = Scope(StaffLevel.admin)


async def _report(services, code: str, month: str = OCT):
    async with services.db.transaction() as session:
        return await service.report_for(session, ADMIN, code, month, NOW)


async def test_ticket_figures_are_the_tickets_own(services):
    report = await _report(services, "HX-YYL-YJ")
    place = report.place
    async with services.db.transaction() as session:
        facts = await stats.load_facts(session, place.ids, *report.period.bounds())
        before = await stats.load_facts(session, place.ids, *report.period.shifted(-1).bounds())
    own = stats.report(facts, NOW)
    assert report.tickets.as_dict() == own["total"].as_dict()
    assert report.tickets_before.as_dict() == stats.compute(before, NOW).as_dict()
    for mine, theirs in ((report.by_channel, own["by_channel"]), (report.by_category, own["by_category"]),
                         (report.by_company, own["by_company"])):
        assert [(n, f.as_dict()) for n, f in mine] == [(n, f.as_dict()) for n, f in theirs]
    # by hand: tickets 1–9 of October are in 谊景社区 (11 was filed on 30 September)
    t = report.tickets
    assert (t.received, t.accepted, t.rejected, t.merged) == (9, 7, 1, 1)
    assert dict((n, f.received) for n, f in report.by_channel) == {"微信": 7, "电话": 1, "12345": 1}
    assert report.tickets_before.received == 1
    received = report.metric("received")
    assert (received.value, received.previous, received.change, received.arrow) == (9, 1, 8, "↑")


async def test_survey_and_disclosure_figures_are_their_features_own(services):
    report = await _report(services, "HX-YYL-YJ")
    async with services.db.transaction() as session:
        surveys = {s.id: s for s in await session.scalars(select(Survey))}
        expected = {}
        for c in report.campaigns:
            result = await survey_stats.results(session, surveys[c.id])
            expected[c.id] = (result["respondents"], result["eligible"], result["satisfaction"])
        config = from_settings(services.settings)
        board = await scorecards.build(session, "property", parse_period(OCT), report.place.ids, config, NOW)
    # A (谊景花园 + 友谊新城, closed 20 October) and D (the developer's, 15 October); B, C, F, G are elsewhere or
    # in other months
    assert sorted(c.title[-1] for c in report.campaigns) == ["A", "D"]
    for c in report.campaigns:
        assert (c.respondents, c.eligible, round(c.scores.satisfaction, 4)) == expected[c.id]
    a = next(c for c in report.campaigns if c.title.endswith("A"))
    assert (a.respondents, a.eligible, a.households) == (6, 15, 1286 + 764)
    assert a.participation == 40.0 and a.coverage == round(6 / 2050 * 100, 1)
    # disclosures: the scorecards' tallies of the same estates and month, added up
    theirs = [card.overall.disclosure for card in board.cards]
    assert report.disclosure.due == sum(t.due for t in theirs) == 3
    assert (report.disclosure.on_time, report.disclosure.late, report.disclosure.missing) == (
        sum(t.on_time for t in theirs), sum(t.late for t in theirs), sum(t.missing for t in theirs)) == (2, 1, 0)
    by_category = {name: (t.due, t.on_time, t.late) for name, t in report.disclosure_by_category}
    assert by_category == {"收支公示": (2, 2, 0), "物业服务事项公示": (1, 0, 1)}


async def test_the_reports_own_figures_by_hand(services):
    report = await _report(services, "HX-YYL-YJ")
    m = {x.key: x for x in report.headline}
    assert (m["meetings"].value, m["meetings"].previous, m["minutes"].value) == (1, 1, 1)
    assert (m["bound"].value, m["bound"].previous, m["bound"].change) == (5, 3, 2)
    assert m["binding"].value == round(5 / (1286 + 764 + 412) * 100, 1)
    q = report.questions
    assert (q["asked"], q["answered"], q["unanswered"], q["inquiries"], q["inquiries_answered"]) == (10, 8, 2, 2, 1)
    assert q["topics"] == [("物业费标准", 5), ("联席会议多久开一次", 3)] and q["gaps"] == [("楼顶能养鸽子吗", 2)]
    assert (m["answer_share"].value, m["answer_share"].previous) == (80.0, 100.0)
    assert m["answer_share"].arrow == "↓" and m["answer_share"].tone == "bad"
    assert m["inquiries_open"].value == 1 and m["overdue"].better == -1
    assert report.rankings == []  # one community: nothing to rank


async def test_street_and_district_reports_rank_their_communities(services):
    street = await _report(services, "HX-YYL")
    assert [c.name for c in street.communities] == ["谊景社区", "平江社区"]
    ranking = {k.key: k for k in street.rankings}
    assert ranking["received"].rows == [(1, "谊景社区", 9), (2, "平江社区", 0)]
    assert ranking["resolution_rate"].rows[-1] == (None, "平江社区", None)  # no tickets: not ranked
    assert ranking["meetings"].rows == [(1, "平江社区", 1), (1, "谊景社区", 1)]  # equal values share a rank (by name)
    assert street.metric("minutes").value == 1 and street.no_meeting == []
    district = await _report(services, "HX")
    assert len(district.communities) == 4 and district.no_meeting == ["蓝水社区", "芳水社区"]
    async with services.db.transaction() as session:
        facts = await stats.load_facts(session, district.place.ids, *district.period.bounds())
    assert district.tickets.as_dict() == stats.compute(facts, NOW).as_dict()
    by_community = {row.name: row.tickets.received for row in district.communities}
    assert by_community == {"谊景社区": 9, "平江社区": 0, "蓝水社区": 0, "芳水社区": 1}
    json = service.to_json(district)
    assert json["scope"] == {"level": "district", "code": "HX", "name": "河西区", "communities": 4}
    assert json["tickets"]["total"]["received"] == 10 and len(json["rankings"]) == len(district.rankings)


async def test_scope_and_month_checks(services):
    async with services.db.transaction() as session:
        place = await scope.find(session, "hx-yyl")
        assert place.level == "street" and await scope.find(session, "NOPE") is None
        yijing = Scope(StaffLevel.community, community_id=place.ids[0], community_ids=frozenset(place.ids[:1]))
        assert not scope.allowed(yijing, place)
        assert scope.allowed(yijing, await scope.find(session, "HX-YYL-YJ"))
    for bad in ("2026-13", "26-10", "2026/10", "", "x" * 40):
        try:
            scope.parse_month(bad or "?")
        except Exception as exc:  # noqa: BLE001
            assert getattr(exc, "status", None) == 400 and "月份" in str(exc)
        else:
            raise AssertionError(bad)
    assert scope.previous_month(NOW).key == "2026-10"
    assert build.summary(await _report(services, "HX-YYL-YJ"))["received"] == 9


async def test_sql_counts_equal_compute_on_random_tickets(services):
    """The SQL twin of every count (stats.aggregate, used by the report and, through sql_counts, the scorecards)
    gives what stats.compute gives, group for group, on tickets in every state."""
    import random
    from datetime import timedelta

    from handlers.tickets.rules import CATEGORIES, CHANNELS
    from storage.models import Estate
    from storage.ticket_models import Ticket

    rng = random.Random(7)
    start, end = report_period = (scope.parse_month("2026-08").bounds())
    del report_period
    async with services.db.transaction() as session:
        estates = (await session.execute(select(Estate.id, Estate.community_id, Estate.property_company_id))).all()
        for n in range(300):
            estate, community, company = rng.choice(estates)
            created = start + timedelta(minutes=rng.randrange(int((end - start).total_seconds() // 60)))
            status = rng.choice(["received", "assigned", "resolved", "closed", "escalated", "rejected"])
            responded = created + timedelta(hours=rng.uniform(0.1, 60)) if rng.random() < 0.8 else None
            resolved = created + timedelta(days=rng.uniform(0.2, 40)) if status in ("resolved", "closed") else None
            session.add(Ticket(
                number=f"RND-{n:05d}", resident_ref=f"rnd{n:029d}", community_id=community, estate_id=estate,
                property_company_id=company if rng.random() < 0.9 else None, category=rng.choice(list(CATEGORIES)),
                channel=rng.choice(list(CHANNELS)), description="随机", photos=[],
                level=rng.choice(["community", "street", "district"]), status=status, created_at=created,
                updated_at=created, level_since=created, sign_due_at=created + timedelta(days=1),
                resolve_due_at=created + timedelta(days=rng.choice([3, 7, 15])),
                first_sign_due_at=created + timedelta(days=1), responded_at=responded, resolved_at=resolved,
                resolved_level=rng.choice([None, "community", "street", "district"]) if resolved else None,
                closed_reason=rng.choice([None, "rated", "merged", "timeout"]) if status == "closed" else None,
                rating=rng.choice([None, 1, 2, 3, 4, 5]) if status == "closed" else None, reopened=0,
                escalations=0, escalation_offered=False))
    now = NOW
    async with services.db.transaction() as session:
        facts = await stats.load_facts(session, None, start, end)
        for communities in (None, [estates[0][1]], list({e[1] for e in estates})):
            groups = await stats.aggregate(session, communities, start, end, now)
            chosen = facts if communities is None else await stats.load_facts(session, communities, start, end)
            assert groups["total"][None].as_dict() == stats.compute(chosen, now).as_dict()
            for key in ("category", "channel"):
                mine = {n: f.as_dict() for n, f in stats.labelled(groups[key], key)}
                assert mine == {n: f.as_dict() for n, f in stats.breakdown(chosen, now, key)}
    assert len(facts) == 300
