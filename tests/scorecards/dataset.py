"""A known data set for the scorecards (October 2026, the demo organisation): tickets, finished survey campaigns
with their answers, disclosure rules and notices, written as rows so each figure can be worked out by hand in the
tests. The comments say what every row is there to prove.

Estates (demo): 谊景花园 YJ-01 (津安 WY-JA, 1286 households), 友谊新城 YJ-02 (WY-JA, 764, developer KF-HX),
谊安里 YJ-03 (海河畔 WY-HH, 412), 梅江湾 FS-02 (WY-JA, 588, 梅江街道), 蓝水园 LS-01 (梅江嘉园 WY-MJ, 1520).
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from bot.localtime import LOCAL_TZ
from handlers.surveys.templates_builtin import build
from storage.models import Community, Developer, Estate, PropertyCompany
from storage.notice_models import Notice, NoticeTarget
from storage.scorecard_models import DisclosureRule
from storage.survey_models import Survey, SurveyArea, SurveyResponse
from storage.ticket_models import Ticket

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # Thursday 10:00 in Tianjin
H, D = timedelta(hours=1), timedelta(days=1)
_SEQ = itertools.count(1)


def oct_(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=LOCAL_TZ)


# (estate code, category, status, level, responded after, resolved after, resolved level, resolve limit,
#  rating, closed reason) — every ticket filed on 2026-10-05 09:00 unless `created` says otherwise
TICKETS = {
    1: ("HX-YYL-YJ-01", "repair", "closed", "community", 2 * H, 3 * D, "community", 7 * D, 5, "rated"),
    2: ("HX-YYL-YJ-01", "repair", "closed", "street", 30 * H, 10 * D, "street", 9 * D, 2, "rated"),  # late twice
    3: ("HX-YYL-YJ-01", "fees", "rejected", "community", 1 * H, None, None, 7 * D, None, None),
    4: ("HX-YYL-YJ-01", "parking", "closed", "community", 1 * H, 2 * D, "community", 7 * D, None, "merged"),
    5: ("HX-YYL-YJ-01", "property", "assigned", "community", 5 * H, None, None, 7 * D, None, None),
    6: ("HX-YYL-YJ-01", "environment", "escalated", "street", None, None, None, 15 * D, None, None),
    7: ("HX-YYL-YJ-02", "repair", "resolved", "community", 3 * H, 1 * D, "community", 7 * D, None, None),
    8: ("HX-YYL-YJ-02", "developer", "closed", "community", 4 * H, 5 * D, "community", 7 * D, 4, "rated"),
    9: ("HX-YYL-YJ-03", "repair", "closed", "community", 2 * H, 2 * D, "community", 7 * D, 4, "rated"),
    10: ("HX-MJ-FS-02", "repair", "closed", "district", 20 * H, 20 * D, "district", 30 * D, 1, "rated"),
    11: ("HX-YYL-YJ-01", "repair", "closed", "community", 1 * H, 1 * D, "community", 7 * D, 4, "rated"),
}
CREATED = {11: datetime(2026, 9, 30, 23, 30, tzinfo=LOCAL_TZ)}  # 30 September local: outside October

P = ["q1", "q2", "q3", "q4", "q5", "q6"]  # the property template's rating questions
CAMPAIGNS = {
    # A: the latest WY-JA campaign for YJ-01 and YJ-02 (eligible 10 and 5 at closing)
    "A": ("property", "WY-JA", datetime(2026, 10, 20, 10, tzinfo=LOCAL_TZ), {"HX-YYL-YJ-01": 10, "HX-YYL-YJ-02": 5},
          {"HX-YYL-YJ-01": [(5, 5, 4, 4, 3, 5), (4, 4, 4, 4, 4, 4), (2, 3, 2, 1, 3, 2), (3, 4, 5, 2, 4, 4)],
           "HX-YYL-YJ-02": [(5, 5, 5, 5, 5, 5), (1, 2, 3, 4, 5, 4)]}),
    # B: an older WY-JA campaign for YJ-01: superseded by A, its answers must not count
    "B": ("property", "WY-JA", datetime(2026, 3, 1, 10, tzinfo=LOCAL_TZ), {"HX-YYL-YJ-01": 3},
          {"HX-YYL-YJ-01": [(1, 1, 1, 1, 1, 1)]}),
    # C: WY-JA at 梅江湾, closed in June: still inside the 12 months before the period's end
    "C": ("property", "WY-JA", datetime(2026, 6, 30, 18, tzinfo=LOCAL_TZ), {"HX-MJ-FS-02": 4},
          {"HX-MJ-FS-02": [(4, 4, 4, 4, 4, 4), (3, 3, 3, 3, 3, 3)]}),
    # F: closed after October ended: does not count for October (it would for November)
    "F": ("property", "WY-JA", datetime(2026, 11, 10, 10, tzinfo=LOCAL_TZ), {"HX-YYL-YJ-01": 2},
          {"HX-YYL-YJ-01": [(1, 1, 1, 1, 1, 1)]}),
    # G: WY-MJ at 蓝水园: three delighted owners (eligible 6)
    "G": ("property", "WY-MJ", datetime(2026, 10, 25, 10, tzinfo=LOCAL_TZ), {"HX-MJ-LS-01": 6},
          {"HX-MJ-LS-01": [(5, 5, 5, 5, 5, 5)] * 3}),
    # D: the developer KF-HX at 友谊新城 (developer template: q1–q3 are ratings)
    "D": ("developer", "KF-HX", datetime(2026, 10, 15, 10, tzinfo=LOCAL_TZ), {"HX-YYL-YJ-02": 4},
          {"HX-YYL-YJ-02": [(4, 4, 4), (2, 3, 5)]}),
}

# disclosure rules: (estate, category, frequency, due day)
RULES = [("HX-YYL-YJ-01", "finance", "monthly", 10), ("HX-YYL-YJ-02", "property", "quarterly", 15),
         ("HX-YYL-YJ-03", "finance", "monthly", 10), ("HX-MJ-FS-02", "finance", "monthly", 10)]
# notices: (key, category, state, scope level, scope code, published)
NOTICES = [
    ("fin-yj", "finance", "published", "community", "HX-YYL-YJ", oct_(8)),  # on time for YJ-01 and YJ-03
    ("prop-yj02", "property", "corrected", "estate", "HX-YYL-YJ-02", oct_(20)),  # after the 15th: late
    ("fin-fs-withdrawn", "finance", "withdrawn", "community", "HX-MJ-FS", oct_(5)),  # withdrawn: does not count
    ("fin-yj-sept", "finance", "published", "community", "HX-YYL-YJ", datetime(2026, 9, 28, 9, tzinfo=LOCAL_TZ)),
]


async def ids(session, model, codes) -> dict[str, int]:
    rows = await session.execute(select(model.code, model.id).where(model.code.in_(list(codes))))
    return dict(rows.all())


async def add_ticket(session, n: int, spec: tuple, created: datetime | None = None) -> Ticket:
    (estate_code, category, status, level, responded, resolved, resolved_level, limit, rating, reason) = spec
    estate = (await session.execute(select(Estate).where(Estate.code == estate_code))).scalar_one()
    created = created or oct_(5)
    t = Ticket(number=f"JF2026TEST-{n:04d}", resident_ref=f"ref{n:029d}", community_id=estate.community_id,
               estate_id=estate.id, property_company_id=estate.property_company_id, category=category,
               description=f"测试工单 {n}", photos=[], level=level, status=status, created_at=created,
               updated_at=created, level_since=created, sign_due_at=created + D, resolve_due_at=created + limit,
               first_sign_due_at=created + D, responded_at=created + responded if responded else None,
               signed_at=created + responded if responded else None,
               resolved_at=created + resolved if resolved else None, resolved_level=resolved_level,
               closed_at=created + resolved if status == "closed" and resolved else None, closed_reason=reason,
               reopened=0, escalations=0 if level == "community" else 1, escalation_offered=False, rating=rating)
    session.add(t)
    return t


async def add_campaign(session, key: str, template: str, subject_code: str, closed_at: datetime,
                       eligible: dict[str, int], answers: dict[str, list[tuple]]) -> Survey:
    model = PropertyCompany if template == "property" else Developer
    subject_id, subject_name = (await session.execute(select(model.id, model.name)
                                                      .where(model.code == subject_code))).one()
    estates = {code: (eid, cid) for code, eid, cid in (await session.execute(
        select(Estate.code, Estate.id, Estate.community_id).where(Estate.code.in_(list(eligible))))).all()}
    questions = build(template)
    s = Survey(title=f"{subject_name}满意度调查 {key}", template=template,
               subject_type="property_company" if template == "property" else "developer",
               subject_id=subject_id, subject_name=subject_name, scope_level="estate",
               scope_ids=[e for e, _ in estates.values()], owners_only=True, per_household=True,
               questions=questions, questions_version=1, frozen=True, status="closed",
               opens_at=closed_at - 7 * D, closes_at=closed_at, opened_at=closed_at - 7 * D, closed_at=closed_at,
               eligible_snapshot={str(estates[c][0]): n for c, n in eligible.items()}, created_by="staff:test",
               created_at=closed_at - 8 * D)
    session.add(s)
    await session.flush()
    rating_ids = [q["id"] for q in questions if q["kind"] == "rating"]
    for code, (eid, cid) in estates.items():
        session.add(SurveyArea(survey_id=s.id, community_id=cid, estate_id=eid))
        for values in answers.get(code, []):
            n = next(_SEQ)
            given = dict(zip(rating_ids, values))
            if template == "property":
                given |= {"q7": 1, "q8": [1, 3], "q9": None}  # non-rating answers must be ignored
            else:
                given |= {"q4": 1, "q5": [2], "q6": "还行"}
            session.add(SurveyResponse(survey_id=s.id, voter_key=f"h:test:{n}", resident_ref=f"r{n:031d}",
                                       community_id=cid, estate_id=eid, answers=given, questions_version=1,
                                       revision=1, created_at=closed_at - D, updated_at=closed_at - D))
    return s


async def add_notice(session, key: str, category: str, state: str, level: str, code: str,
                     published: datetime) -> Notice:
    n = Notice(public_id=f"pub{next(_SEQ):020d}", category=category, state=state, scope_level=level,
               scope_ids=[], roles=[], publisher="测试", author="staff:test", version=1, published_at=published,
               withdrawn_at=published + D if state == "withdrawn" else None, created_at=published,
               updated_at=published, source=key)
    session.add(n)
    await session.flush()
    if level == "estate":
        eid, cid = (await session.execute(select(Estate.id, Estate.community_id).where(Estate.code == code))).one()
        session.add(NoticeTarget(notice_id=n.id, community_id=cid, estate_id=eid))
    else:
        cid = (await session.execute(select(Community.id).where(Community.code == code))).scalar_one()
        session.add(NoticeTarget(notice_id=n.id, community_id=cid, estate_id=None))
    return n


async def load(session) -> dict:
    """Insert the whole data set (the demo organisation must be loaded); returns ids by key."""
    out = {"tickets": {}, "campaigns": {}, "notices": {}}
    for n, spec in TICKETS.items():
        out["tickets"][n] = await add_ticket(session, n, spec, CREATED.get(n))
    for key, (template, subject, closed, eligible, answers) in CAMPAIGNS.items():
        out["campaigns"][key] = (await add_campaign(session, key, template, subject, closed, eligible, answers)).id
    estates = await ids(session, Estate, {r[0] for r in RULES})
    for code, category, frequency, due_day in RULES:
        session.add(DisclosureRule(estate_id=estates[code], category=category, frequency=frequency,
                                   due_day=due_day, effective_from=date(2026, 1, 1), created_by="staff:test"))
    for key, *rest in NOTICES:
        out["notices"][key] = (await add_notice(session, key, *rest)).id
    await session.flush()
    out["tickets"] = {n: t.id for n, t in out["tickets"].items()}
    return out
