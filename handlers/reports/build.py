"""Building one monthly report: every figure comes from the function its feature computes it with.

- tickets: `handlers.tickets.stats.aggregate` (the definitions of `stats.COUNTS`, counted by the database) for
  the month and the month before, by community, category, property company and channel, and the totals of the
  four months before for the trend;
- disclosures: the scorecards' rules and publications (`scorecards.queries`) classified by
  `scorecards.disclosures.evaluate` for the month, tallied per category and community (`disclosures.Tally`);
- surveys: campaigns that closed in the month, their answers pooled per estate by the scorecards' aggregate
  (`scorecards.queries.survey_totals`, the surveys' `tally.Scores` definitions), eligible counts frozen at closing;
- meetings, residents bound, households and policy questions: `reports.queries`;
- partner organisations (承办单位): the tickets 交办 to them in the month, their response and resolution hours
  from the timeline (`handlers.tickets.partner_times`).

A report for a street or a district also ranks its communities on each figure (`figures.rank`).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.reports import queries
from handlers.reports.figures import RANKED, Campaign, CommunityRow, Metric, Report, pct, rank
from handlers.reports.scope import Place
from handlers.scorecards import disclosures
from handlers.scorecards import queries as sq
from handlers.scorecards.periods import Period
from handlers.surveys.tally import Scores, ratio
from handlers.tickets import partner_times, stats
from handlers.tickets.stats import Figures

TREND_MONTHS = 6
KIND_LABELS = {"property_company": "物业服务企业", "developer": "开发建设单位"}
DISCLOSURE_LABELS = {"finance": "收支公示", "property": "物业服务事项公示", "subsidy": "旧楼区补贴公示",
                     "committee": "业委会工作公开"}


async def build(session: AsyncSession, place: Place, period: Period, now: datetime, *,
                trend_months: int = TREND_MONTHS) -> Report:
    ids = place.ids
    since, until = period.bounds()
    before = period.shifted(-1)
    b_since, b_until = before.bounds()
    rows = {cid: CommunityRow(cid, name) for cid, name in place.communities.items()}

    # tickets
    current = await stats.aggregate(session, ids, since, until, now)
    previous = await stats.aggregate(session, ids, b_since, b_until, now, by=())
    total, total_before = current["total"][None], previous["total"][None]
    for cid, fig in current["community"].items():
        if cid in rows:
            rows[cid].tickets = fig
    companies = await sq.subjects(session, "property", [c for c in current["company"] if c is not None])
    trend = []
    for p in period.previous(trend_months):
        if p == period:
            fig = total
        elif p == before:
            fig = total_before
        else:
            fig = (await stats.aggregate(session, ids, *p.bounds(), now, by=()))["total"][None]
        trend.append((p.short_label, fig))

    partners = await partner_times.by_partner(session, ids, since, until, now)

    # meetings, residents, households
    held = await queries.meetings(session, ids, period.start, period.end)
    held_before = await queries.meetings(session, ids, before.start, before.end)
    homes = await queries.households(session, ids)
    bound = await queries.bound_residents(session, ids, until)
    bound_before = await queries.bound_residents(session, ids, b_until)
    for cid, row in rows.items():
        row.meetings, row.minutes = held.get(cid, (0, 0))
        row.households, row.bound = homes.get(cid, 0), bound.get(cid, 0)

    # disclosures
    estate_info = await sq.estates(session, ids)
    tally, tally_before, by_category = await _disclosures(session, ids, period, now, estate_info, rows)

    # surveys
    campaigns, by_subject, participation_before = await _surveys(session, place, period, now, estate_info, rows)

    # policy questions
    questions = await _questions(session, ids, period, rows)
    questions_before = await _questions(session, ids, before, None)

    households = sum(homes.values())
    meetings_now = sum(n for n, _ in held.values())
    meetings_before = sum(n for n, _ in held_before.values())
    respondents = sum(c.respondents for c in campaigns)
    survey_households = sum(c.households for c in campaigns)
    pooled = Scores()
    for c in campaigns:
        pooled.merge(c.scores)
    headline = [
        Metric("received", "受理投诉", total.received, total_before.received, "件", 0),
        Metric("response_rate", "响应率", total.response_rate, total_before.response_rate, "%"),
        Metric("resolution_rate", "解决率", total.resolution_rate, total_before.resolution_rate, "%"),
        Metric("satisfaction_rate", "投诉满意率", total.satisfaction_rate, total_before.satisfaction_rate, "%"),
        Metric("community_share", "不出社区率", total.community_share, total_before.community_share, "%"),
        Metric("street_share", "不出街道率", total.street_share, total_before.street_share, "%"),
        Metric("overdue", "超期工单", total.overdue, total_before.overdue, "件", -1),
        Metric("median_response_hours", "响应时长中位数", total.median_response_hours,
               total_before.median_response_hours, "小时", -1),
        Metric("median_resolve_days", "办结时长中位数", total.median_resolve_days, total_before.median_resolve_days,
               "天", -1),
        Metric("meetings", "联席会议", meetings_now, meetings_before, "次"),
        Metric("minutes", "纪要已公开", sum(p for _, p in held.values()), sum(p for _, p in held_before.values()),
               "次"),
        Metric("disclosure_on_time", "公示按时率", pct(tally.on_time_rate), pct(tally_before.on_time_rate), "%"),
        Metric("disclosure_missing", "应公示未公示", tally.missing, tally_before.missing, "项", -1),
        Metric("survey_respondents", "调查答卷", respondents, participation_before[0], "份", 0),
        Metric("survey_coverage", "调查参与率（按户数）", pct(ratio(respondents, survey_households)),
               pct(ratio(participation_before[0], participation_before[1])), "%"),
        Metric("survey_satisfaction", "调查满意率", pct(pooled.satisfaction), pct(participation_before[2]), "%"),
        Metric("bound", "绑定居民", sum(bound.values()), sum(bound_before.values()), "人"),
        Metric("binding", "绑定率（按户数）", pct(ratio(sum(bound.values()), households)),
               pct(ratio(sum(bound_before.values()), households)), "%"),
        Metric("questions", "政策提问", questions["asked"], questions_before["asked"], "次", 0),
        Metric("answer_share", "自动解答率", pct(ratio(questions["answered"], questions["asked"])),
               pct(ratio(questions_before["answered"], questions_before["asked"])), "%"),
        Metric("inquiries_open", "转人工待答复", questions["inquiries"] - questions["inquiries_answered"],
               questions_before["inquiries"] - questions_before["inquiries_answered"], "条", -1),
    ]
    community_rows = list(rows.values())
    rankings = [rank(community_rows, *spec) for spec in RANKED] if len(community_rows) > 1 else []
    return Report(
        place=place, period=period, now=now, headline=headline, tickets=total, tickets_before=total_before,
        by_channel=stats.labelled(current["channel"], "channel"),
        by_category=stats.labelled(current["category"], "category"),
        by_company=stats.labelled(current["company"], "company",
                                  {i: name for i, (_, name) in companies.items()}),
        by_partner=partners, trend=trend, communities=community_rows, disclosure=tally,
        disclosure_by_category=[(DISCLOSURE_LABELS.get(k, k), t) for k, t in sorted(by_category.items())],
        campaigns=campaigns, satisfaction_by_subject=by_subject, questions=questions, rankings=rankings)


async def _disclosures(session, ids, period: Period, now: datetime, estate_info, rows):
    """This month's and last month's disclosure outcomes, tallied overall, per category and per community."""
    rules = await sq.disclosure_rules(session, ids)
    out = []
    for p in (period, period.shifted(-1)):
        span = disclosures.fetch_range(rules, p)
        published = await sq.publications_for_rules(session, ids, *span) if span else {}
        out.append(disclosures.evaluate(rules, p, published, now))
    tally, tally_before = disclosures.Tally(), disclosures.Tally()
    by_category: dict[str, disclosures.Tally] = defaultdict(disclosures.Tally)
    for outcome in out[0]:
        tally.add(outcome)
        by_category[outcome.instance.rule.category].add(outcome)
        info = estate_info.get(outcome.instance.rule.estate_id)
        if info is not None and info.community_id in rows:
            rows[info.community_id].disclosure.add(outcome)
    for outcome in out[1]:
        tally_before.add(outcome)
    return tally, tally_before, dict(by_category)


async def _campaign_figures(session, ids, period: Period, now: datetime, estate_info):
    """(campaigns with their figures inside `ids`, per-estate groups) of the campaigns closed in `period`."""
    since, until = period.bounds()
    candidates = queries.closed_campaigns(ids, since, until)
    found = await sq.campaigns(session, candidates)
    if not found:
        return [], {}, {}
    groups = await sq.survey_totals(session, found, ids, now, candidates)
    subjects = await queries.campaign_subjects(session, list(found))
    areas = await queries.campaign_areas(session, list(found), ids)
    estates_of: dict[int, list[int]] = defaultdict(list)
    for e in estate_info.values():
        estates_of[e.community_id].append(e.id)
    covered: dict[int, set[int]] = defaultdict(set)
    for survey_id, community_id, estate_id in areas:
        covered[survey_id].update([estate_id] if estate_id is not None else estates_of.get(community_id, []))
    campaigns = []
    for survey_id, info in sorted(found.items(), key=lambda kv: (kv[1].closed_at, kv[0])):
        subject_type, _subject_id, subject_name, _template = subjects[survey_id]
        scores, respondents = Scores(), 0
        for (sid, _estate), (n, pooled, _per_question, _community) in groups.items():
            if sid == survey_id:
                respondents += n
                scores.merge(pooled)
        estates = covered.get(survey_id, set())
        eligible = sum(int(v) for k, v in info.eligible.items() if k.isdigit() and int(k) in estates)
        homes = sum(estate_info[e].households or 0 for e in estates if e in estate_info)
        campaigns.append(Campaign(survey_id, info.title, subject_name, subject_type, respondents, eligible, homes,
                                  scores))
    return campaigns, groups, {c.id: covered.get(c.id, set()) for c in campaigns}


async def _surveys(session, place: Place, period: Period, now: datetime, estate_info, rows):
    campaigns, groups, covered = await _campaign_figures(session, place.ids, period, now, estate_info)
    for (_survey_id, estate_id), (n, pooled, _q, community_id) in groups.items():
        row = rows.get(community_id)
        if row is not None:
            row.respondents += n
            row.scores.merge(pooled)
    for c in campaigns:
        for e in covered[c.id]:
            info = estate_info.get(e)
            if info is not None and info.community_id in rows:
                rows[info.community_id].survey_households += info.households or 0
    by_subject: dict[tuple[str, str], tuple[Scores, int]] = {}
    for c in campaigns:
        if c.subject_type not in KIND_LABELS:
            continue
        scores, n = by_subject.get((c.subject_type, c.subject), (Scores(), 0))
        scores.merge(c.scores)
        by_subject[(c.subject_type, c.subject)] = (scores, n + c.respondents)
    subjects = sorted(((KIND_LABELS[t], name, s, n) for (t, name), (s, n) in by_subject.items()),
                      key=lambda x: (x[0], -(x[2].satisfaction or 0), x[1]))
    before, _, _ = await _campaign_figures(session, place.ids, period.shifted(-1), now, estate_info)
    pooled = Scores()
    for c in before:
        pooled.merge(c.scores)
    return campaigns, subjects, (sum(c.respondents for c in before), sum(c.households for c in before),
                                 pooled.satisfaction)


async def _questions(session, ids, period: Period, rows) -> dict:
    since, until = period.bounds()
    month = period.key
    counts = await queries.question_counts(session, ids, month)
    asked = answered = 0
    topics: dict[str, list] = {}
    for community, outcome, entry, title, n in counts:
        asked += n
        if outcome == "answer":
            answered += n
            topic = topics.setdefault(entry, [title, 0])
            topic[0], topic[1] = title or topic[0], topic[1] + n
        if rows is not None and community in rows:
            rows[community].questions += n
            rows[community].answered += n if outcome == "answer" else 0
    inquiries = await queries.inquiries(session, ids, since, until)
    top = sorted(((t, n) for t, n in topics.values()), key=lambda x: (-x[1], x[0]))[:10]
    return {"asked": asked, "answered": answered, "unanswered": asked - answered,
            "inquiries": sum(n for n, _ in inquiries.values()),
            "inquiries_answered": sum(a for _, a in inquiries.values()),
            "topics": top, "gaps": await queries.open_gaps(session, ids, since, until) if rows is not None else []}


def summary(report: Report) -> dict:
    """A few headline figures (for the console notice and the job's log)."""
    keys = ("received", "resolution_rate", "satisfaction_rate", "overdue", "meetings", "disclosure_on_time")
    return {k: report.metric(k).value for k in keys}


def community_figures(report: Report) -> dict[int, Figures]:
    return {row.id: row.tickets for row in report.communities}
