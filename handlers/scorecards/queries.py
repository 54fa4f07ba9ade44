"""Database reads of the scorecards: every figure is an SQL aggregate (GROUP BY subject and estate), so the cost
grows with the number of groups, not of tickets or survey answers. Takes a session, never writes.

`communities` everywhere is the jurisdiction: a SELECT of community ids (`authz.visible_communities`), a list,
or None for everything (admins, the command line).

- `estates`: the estates in view with their company, developer and households;
- `ticket_figures`: ticket counts per (subject, estate) with the definitions of `handlers.tickets.stats.compute`
  written as SQL, and the median days to resolve (window functions, both engines), reading the tickets once;
- `campaign_estates`, `campaigns`, `response_groups`, `survey_totals`: the finished campaigns of a template per
  (subject, estate) and their answers pooled per (campaign, estate) — JSON values extracted once per row in a
  materialised CTE, and kept in `scorecard_survey_totals` once a campaign has settled (its answers are final);
- `disclosure_rules`, `publications_for_rules`: rules per estate and the live notices that can satisfy them;
- `ticket_rows`: the source tickets of one subject, for its page and its CSV.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Iterable

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.notices.rules import LIVE
from handlers.scorecards.disclosures import Rule
from handlers.surveys.tally import Scores
from handlers.tickets.stats import COUNTS, Fact, Figures, sql_counts, sql_days
from storage.models import Community, Developer, Estate, PropertyCompany, Street
from storage.notice_models import Notice, NoticeTarget
from storage.scorecard_models import DisclosureRule
from storage.scorecard_models import ScorecardSurveyTotal as SurveyTotal
from storage.survey_models import Survey, SurveyArea, SurveyResponse
from storage.ticket_models import Ticket

SUBJECT_MODELS = {"property": PropertyCompany, "developer": Developer}
SURVEY_TEMPLATE = {"property": ("property", "property_company"), "developer": ("developer", "developer")}
FINISHED = ("closed", "published")
OPEN_STATUSES = ("received", "escalated", "assigned")


def _in_scope(column, communities):
    return literal(True) if communities is None else column.in_(communities)


def _ids(values: Iterable[int] | None):
    return None if values is None else sorted(set(values))


@dataclass(frozen=True)
class EstateInfo:
    id: int
    code: str
    name: str
    community_id: int
    community: str
    street_id: int
    street: str
    households: int | None
    property_company_id: int | None
    developer_id: int | None

    def subject(self, kind: str) -> int | None:
        return self.property_company_id if kind == "property" else self.developer_id


async def estates(session: AsyncSession, communities) -> dict[int, EstateInfo]:
    stmt = (select(Estate.id, Estate.code, Estate.name, Estate.community_id, Community.name, Community.street_id,
                   Street.name, Estate.households, Estate.property_company_id, Estate.developer_id)
            .join(Community, Community.id == Estate.community_id).join(Street, Street.id == Community.street_id)
            .where(_in_scope(Estate.community_id, communities)))
    return {row[0]: EstateInfo(*row) for row in (await session.execute(stmt)).all()}


async def subjects(session: AsyncSession, kind: str, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id → (code, name) of the companies or developers with these ids (all are read when there are many)."""
    model = SUBJECT_MODELS[kind]
    ids = _ids(ids)
    if not ids:
        return {}
    stmt = select(model.id, model.code, model.name)
    if len(ids) <= 50:
        stmt = stmt.where(model.id.in_(ids))
    return {i: (code, name) for i, code, name in (await session.execute(stmt)).all()}


async def subject_by_code(session: AsyncSession, kind: str, text: str) -> tuple[int, str, str] | None:
    model = SUBJECT_MODELS[kind]
    text = (text or "").strip()
    cond = [model.code == text.upper(), model.name == text] + ([model.id == int(text)] if text.isdigit() else [])
    row = (await session.execute(select(model.id, model.code, model.name).where(or_(*cond)))).first()
    return tuple(row) if row else None


# ----- tickets ---------------------------------------------------------------------------------------------------

def _ticket_scope(kind: str, categories: list[str], since: datetime, until: datetime, communities,
                  subject_ids=None):
    """(subject column, WHERE clauses, needs the estates join) for the tickets counted against `kind`."""
    if kind == "property":
        subject = Ticket.property_company_id
    else:
        subject = Estate.developer_id  # the estate's developer (tickets record the company, not the developer)
    where = [Ticket.created_at >= since, Ticket.created_at < until, Ticket.category.in_(categories),
             subject.is_not(None), _in_scope(Ticket.community_id, communities)]
    if subject_ids is not None:
        where.append(subject.in_(_ids(subject_ids)))
    return subject, where


def _select_tickets(kind: str, *columns):
    stmt = select(*columns)
    if kind == "developer":
        stmt = stmt.select_from(Ticket).join(Estate, Estate.id == Ticket.estate_id)
    return stmt


def _count(condition):
    """How many rows of the group meet `condition` (`COUNT(*) FILTER (WHERE …)`, on both engines)."""
    return func.count().filter(condition)


def _not_merged():
    return func.coalesce(Ticket.closed_reason, "") != "merged"


COUNTED = (*(c.name for c in COUNTS), "escalated")


async def ticket_figures(session: AsyncSession, kind: str, categories: list[str], since: datetime,
                         until: datetime, communities, now: datetime, subject_ids=None, per_estate: bool = True
                         ) -> tuple[dict[tuple[int, int | None], tuple[Figures, int]], dict, dict]:
    """Ticket figures against each subject, in one statement that reads the tickets once:

    - per (subject, estate): the counts of `handlers.tickets.stats` (its `sql_counts`, the SQL side of the very
      definitions `stats.compute` applies), and the accepted tickets now above the community (escalated or
      returned upwards);
    - the median calendar days from filing to resolution of resolved (not merged) tickets, per subject and (when
      `per_estate`) per (subject, estate): ROW_NUMBER and COUNT over the same ordered window pick the middle
      row(s) of each group (two when the count is even: their mean is the median).

    A MATERIALIZED CTE holds one narrow row per ticket (0/1 flags and the days to resolve); a UNION ALL returns
    the grouped counts (tag 0) and the median rows (tag 1). Returns (groups, subject medians, estate medians)."""
    subject, where = _ticket_scope(kind, categories, since, until, communities, subject_ids)
    conditions = sql_counts(now)
    resolved = conditions["resolved"]
    conditions["escalated"] = and_(Ticket.status != "rejected", _not_merged(), Ticket.level != "community")
    days = sql_days(session.bind.dialect.name, Ticket.resolved_at, Ticket.created_at)
    rows = (_select_tickets(kind, subject.label("s"), Ticket.estate_id.label("e"),
                            *[case((conditions[name], 1), else_=0).label(name) for name in COUNTED],
                            case((resolved, days), else_=None).label("d"))
            .where(*where).cte("counted").prefix_with("MATERIALIZED"))
    c = rows.c
    grouped = select(literal_column("0").label("tag"), c.s, c.e, func.count().label("n"),
                     *[func.coalesce(func.sum(c[name]), 0).label(name) for name in COUNTED],
                     *[cast(None, Float) if i == 0 else cast(None, Integer) for i in range(5)]
                     ).group_by(c.s, c.e)
    whole = (None, None)  # the count over the same ordered window as the row number: one sort per partitioning
    windows = [[c.s]] + ([[c.s, c.e]] if per_estate else [])
    ranked = []
    for parts in windows:
        ranked += [func.row_number().over(partition_by=parts, order_by=c.d),
                   func.count().over(partition_by=parts, order_by=c.d, rows=whole)]
    ranked += [literal_column("0")] * (4 - len(ranked))
    inner = select(c.s, c.e, c.d, *[x.label(f"w{i}") for i, x in enumerate(ranked)]).where(
        c.d.is_not(None)).subquery()
    r = inner.c
    middle = [r.w0 == (r.w1 + 1) // 2, r.w0 == (r.w1 + 2) // 2]
    if per_estate:
        middle += [r.w2 == (r.w3 + 1) // 2, r.w2 == (r.w3 + 2) // 2]
    medians = select(literal_column("1"), r.s, r.e, *[null()] * (1 + len(COUNTED)), r.d, r.w0, r.w1, r.w2, r.w3
                     ).where(or_(*middle))
    groups: dict[tuple[int, int | None], tuple[Figures, int]] = {}
    found: list[dict] = [defaultdict(list), defaultdict(list)]
    width = len(COUNTED)
    for row in (await session.execute(union_all(grouped, medians))).all():
        tag, sid, eid = row[0], row[1], row[2]
        if tag == 0:
            n = row[3]
            v = dict(zip(COUNTED, row[4:4 + width]))
            f = Figures(received=n)
            for name in COUNTED[:-1]:
                f.count(name, int(v[name]))
            f.finish()
            groups[(sid, eid)] = (f, v["escalated"])
            continue
        d, rs, ns, re, ne = float(row[4 + width]), *row[5 + width:9 + width]
        if rs in ((ns + 1) // 2, (ns + 2) // 2):
            found[0][sid].append(d)
        if per_estate and re in ((ne + 1) // 2, (ne + 2) // 2):
            found[1][(sid, eid)].append(d)
    subject_medians, estate_medians = ({k: round(sum(v) / len(v), 1) for k, v in group.items()} for group in found)
    return groups, subject_medians, estate_medians


TICKET_COLUMNS = (Ticket.id, Ticket.number, Ticket.estate_id, Ticket.category, Ticket.status, Ticket.level,
                  Ticket.created_at, Ticket.first_sign_due_at, Ticket.responded_at, Ticket.resolved_at,
                  Ticket.resolved_level, Ticket.resolve_due_at, Ticket.rating, Ticket.closed_reason)


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    estate_id: int | None
    category: str
    status: str
    level: str
    created_at: datetime
    first_sign_due_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    resolved_level: str | None
    resolve_due_at: datetime
    rating: int | None
    closed_reason: str | None

    def fact(self) -> Fact:
        """The tickets' own view of this row (`stats.compute([row.fact()], now)` marks what it counts for)."""
        return Fact(self.category, self.status, self.created_at, self.first_sign_due_at, self.responded_at,
                    self.resolved_at, self.resolved_level, self.resolve_due_at, self.rating, self.closed_reason)


async def ticket_rows(session: AsyncSession, kind: str, subject_id: int, categories: list[str], since: datetime,
                      until: datetime, communities, limit: int | None = None) -> tuple[list[TicketRow], int]:
    """The tickets counted against one subject (newest first) and how many there are."""
    _, where = _ticket_scope(kind, categories, since, until, communities, [subject_id])
    total = (await session.execute(_select_tickets(kind, func.count()).where(*where))).scalar_one()
    stmt = _select_tickets(kind, *TICKET_COLUMNS).where(*where).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return [TicketRow(*row) for row in (await session.execute(stmt)).all()], total


# ----- surveys ---------------------------------------------------------------------------------------------------

def finished_campaigns(kind: str, since: datetime, until: datetime, communities, subject_ids=None):
    """SELECT of the ids of finished campaigns of the kind's template (subject set) that closed in [since, until)
    and cover an estate inside `communities`."""
    template, subject_type = SURVEY_TEMPLATE[kind]
    stmt = select(Survey.id).where(Survey.template == template, Survey.subject_type == subject_type,
                                   Survey.subject_id.is_not(None), Survey.status.in_(FINISHED),
                                   Survey.closed_at >= since, Survey.closed_at < until)
    if communities is not None:
        stmt = stmt.where(exists().where(SurveyArea.survey_id == Survey.id, SurveyArea.estate_id.is_not(None),
                                         SurveyArea.community_id.in_(communities)))
    if subject_ids is not None:
        stmt = stmt.where(Survey.subject_id.in_(_ids(subject_ids)))
    return stmt


async def campaign_estates(session: AsyncSession, candidates, communities) -> dict[tuple[int, int], int]:
    """(subject, estate inside `communities`) → the latest of the `candidates` (a SELECT of campaign ids) that
    covered the estate: the campaign whose answers count for that estate."""
    stmt = (select(Survey.subject_id, SurveyArea.estate_id, Survey.id, Survey.closed_at)
            .join(SurveyArea, SurveyArea.survey_id == Survey.id)
            .where(Survey.id.in_(candidates), SurveyArea.estate_id.is_not(None),
                   _in_scope(SurveyArea.community_id, communities)))
    latest: dict[tuple[int, int], tuple[datetime, int]] = {}
    for subject, estate, survey_id, closed_at in (await session.execute(stmt)).all():
        key = (subject, estate)
        if key not in latest or (closed_at, survey_id) > latest[key]:
            latest[key] = (closed_at, survey_id)
    return {key: survey_id for key, (_, survey_id) in latest.items()}


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    title: str
    subject_id: int
    closed_at: datetime
    questions: list
    eligible: dict  # estate id (text) → eligible households or residents at closing

    @functools.cached_property
    def rating_questions(self) -> tuple[tuple[str, str], ...]:
        return tuple((q["id"], q.get("title") or q["id"]) for q in self.questions if q.get("kind") == "rating")


async def campaigns(session: AsyncSession, ids) -> dict[int, CampaignInfo]:
    """The campaigns with these ids (a SELECT of ids, or a list)."""
    if not isinstance(ids, Select):
        ids = _ids(ids)
        if not ids:
            return {}
    rows = await session.execute(select(Survey.id, Survey.title, Survey.subject_id, Survey.closed_at,
                                        Survey.questions, Survey.eligible_snapshot).where(Survey.id.in_(ids)))
    return {r[0]: CampaignInfo(r[0], r[1], r[2], r[3], r[4] or [], r[5] or {}) for r in rows.all()}


async def response_groups(session: AsyncSession, found: dict[int, CampaignInfo], communities
                          ) -> dict[tuple[int, int], tuple[int, Scores, dict[str, Scores], int | None]]:
    """(campaign, estate) → (respondents, pooled rating scores, scores per rating question). Each rating value
    is read from the JSON answers once per response (a MATERIALIZED CTE), only for campaigns where that question
    is a rating; the database then counts, sums and counts 4–5 per group."""
    if not found:
        return {}
    by_question: dict[str, list[int]] = defaultdict(list)
    for c in found.values():
        for qid, _ in c.rating_questions:
            by_question[qid].append(c.id)
    qids = sorted(by_question)
    values = []
    for n, q in enumerate(qids):
        value = SurveyResponse.answers[q].as_integer()
        if len(by_question[q]) < len(found):  # a question that is not a rating everywhere: read it only there
            value = case((SurveyResponse.survey_id.in_(sorted(by_question[q])), value), else_=None)
        values.append(value.label(f"v{n}"))
    rows = (select(SurveyResponse.survey_id, SurveyResponse.estate_id, SurveyResponse.community_id, *values)
            .where(SurveyResponse.survey_id.in_(sorted(found)), SurveyResponse.estate_id.is_not(None),
                   _in_scope(SurveyResponse.community_id, communities))
            .cte("answers").prefix_with("MATERIALIZED"))
    aggregates = []
    for n in range(len(qids)):
        v = rows.c[f"v{n}"]
        aggregates += [func.count(v), func.coalesce(func.sum(v), 0), _count(v >= 4)]
    stmt = select(rows.c.survey_id, rows.c.estate_id, func.max(rows.c.community_id), func.count(),
                  *aggregates).group_by(rows.c.survey_id, rows.c.estate_id)
    out = {}
    for row in (await session.execute(stmt)).all():
        survey_id, estate_id, community_id, respondents = row[0], row[1], row[2], row[3]
        pooled, per_question = Scores(), {}
        rating_ids = {q for q, _ in found[survey_id].rating_questions}
        for n, qid in enumerate(qids):
            rated, total, satisfied = row[4 + 3 * n: 7 + 3 * n]
            if qid not in rating_ids:
                continue
            scores = Scores(rated=int(rated), satisfied=int(satisfied), total=int(total))
            per_question[qid] = scores
            pooled.merge(scores)
        out[(survey_id, estate_id)] = (respondents, pooled, per_question, community_id)
    return out


SETTLED = timedelta(hours=1)  # a campaign closed this long ago has no vote in flight: its totals are final


def totals_rows(groups: dict, settled: Iterable[int], now: datetime) -> list[dict]:
    """Rows of `scorecard_survey_totals` for aggregated groups, plus each campaign's estate-0 marker."""
    rows = [{"survey_id": survey_id, "estate_id": estate_id, "community_id": community_id,
             "respondents": respondents, "rated": pooled.rated, "satisfied": pooled.satisfied, "total": pooled.total,
             "questions": {q: [v.rated, v.total, v.satisfied] for q, v in per_question.items()}, "computed_at": now}
            for (survey_id, estate_id), (respondents, pooled, per_question, community_id) in groups.items()]
    return rows + [{"survey_id": i, "estate_id": 0, "community_id": None, "respondents": 0, "rated": 0,
                    "satisfied": 0, "total": 0, "questions": {}, "computed_at": now} for i in settled]


async def store_totals(session: AsyncSession, rows: list[dict]) -> None:
    """Insert-if-absent, so concurrent writers agree (the first one's rows stay; they are the same)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), 2000):
        await session.execute(dialect.insert(SurveyTotal).values(rows[start:start + 2000])
                              .on_conflict_do_nothing(index_elements=["survey_id", "estate_id"]))


Store = Callable[[list[dict]], Awaitable[None]]


async def survey_totals(session: AsyncSession, found: dict[int, CampaignInfo], communities, now: datetime,
                        candidates=None, store: Store | None = None, estates_in_view: set[int] | None = None
                        ) -> dict[tuple[int, int], tuple[int, Scores, dict[str, Scores], int | None]]:
    """`response_groups` for finished campaigns, through `scorecard_survey_totals`.

    Campaigns whose totals are stored are read from there (a few rows each) inside the jurisdiction. The others
    are aggregated from their answers. When `store` is given, those closed more than an hour ago (settled: no
    vote can still be in flight) are aggregated over all their answers and handed to `store` (the console writes
    them in a short transaction of its own: its pages read in a read-only one), keeping the groups of
    `estates_in_view`. Without `store`, and for campaigns closed within the hour, the aggregate is live and
    limited to the jurisdiction. `candidates` (the SELECT `found` came from) keeps long id lists out of the
    statements."""
    if not found:
        return {}
    ids = sorted(found)
    among = SurveyTotal.survey_id.in_(candidates if candidates is not None else ids)
    done = set(await session.scalars(select(SurveyTotal.survey_id).where(among, SurveyTotal.estate_id == 0)))
    missing = {i: found[i] for i in ids if i not in done}
    settled = {i: c for i, c in missing.items() if c.closed_at <= now - SETTLED} if store is not None else {}
    live = {i: c for i, c in missing.items() if i not in settled}
    out = await response_groups(session, live, communities) if live else {}
    if settled:
        groups = await response_groups(session, settled, None)
        await store(totals_rows(groups, settled, now))
        out.update((key, value) for key, value in groups.items()
                   if estates_in_view is None or key[1] in estates_in_view)
    if done:
        stmt = (select(SurveyTotal.survey_id, SurveyTotal.estate_id, SurveyTotal.community_id, SurveyTotal.respondents,
                       SurveyTotal.rated, SurveyTotal.satisfied, SurveyTotal.total, SurveyTotal.questions)
                .where(among, SurveyTotal.estate_id != 0, _in_scope(SurveyTotal.community_id, communities)))
        for survey_id, estate_id, community_id, respondents, rated, satisfied, total, questions in \
                (await session.execute(stmt)).all():
            if survey_id not in done:
                continue  # stored meanwhile by someone else: already aggregated above
            per_question = {q: Scores(rated=r, total=t, satisfied=sat) for q, (r, t, sat) in questions.items()}
            out[(survey_id, estate_id)] = (respondents, Scores(rated=rated, satisfied=satisfied, total=total),
                                           per_question, community_id)
    return out


# ----- disclosures -----------------------------------------------------------------------------------------------

async def disclosure_rules(session: AsyncSession, communities, estate_ids=None) -> list[Rule]:
    stmt = (select(DisclosureRule.id, DisclosureRule.estate_id, DisclosureRule.category, DisclosureRule.frequency,
                   DisclosureRule.due_day, DisclosureRule.effective_from)
            .join(Estate, Estate.id == DisclosureRule.estate_id)
            .where(_in_scope(Estate.community_id, communities)).order_by(DisclosureRule.id))
    if estate_ids is not None:
        stmt = stmt.where(DisclosureRule.estate_id.in_(_ids(estate_ids)))
    return [Rule(*row) for row in (await session.execute(stmt)).all()]


async def publications_for_rules(session: AsyncSession, communities, since: datetime, until: datetime,
                                 estate_ids=None, *, by_company: bool = False
                                 ) -> dict[tuple[int, str], list[tuple[datetime, int]]]:
    """(estate, category) → sorted (first published_at, notice id) of live notices of a category some rule of
    the estate asks for, reaching the estate (its community, or the estate itself), published in [since, until).
    `by_company`: instead, the estate's property company's own drafts (`notices.source` partner:property:ID,
    console_partner) by the time they were submitted for review, in any state."""
    at = Notice.submitted_at if by_company else Notice.published_at
    if by_company:
        which = Notice.source == literal("partner:property:") + cast(Estate.property_company_id, String)
    else:
        which = Notice.state.in_(LIVE)
    stmt = (select(DisclosureRule.estate_id, Notice.category, at, Notice.id)
            .join(Estate, Estate.id == DisclosureRule.estate_id)
            .join(NoticeTarget, and_(NoticeTarget.community_id == Estate.community_id,
                                     or_(NoticeTarget.estate_id.is_(None), NoticeTarget.estate_id == Estate.id)))
            .join(Notice, and_(Notice.id == NoticeTarget.notice_id, Notice.category == DisclosureRule.category))
            .where(which, at >= since, at < until, _in_scope(Estate.community_id, communities))
            .distinct())
    if estate_ids is not None:
        stmt = stmt.where(DisclosureRule.estate_id.in_(_ids(estate_ids)))
    out: dict[tuple[int, str], list[tuple[datetime, int]]] = defaultdict(list)
    for estate_id, category, at, notice_id in (await session.execute(stmt)).all():
        out[(estate_id, category)].append((at, notice_id))
    for pubs in out.values():
        pubs.sort()
    return dict(out)

