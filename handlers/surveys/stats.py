"""Live and final figures of campaigns from the database: eligible counts per estate (households deduplicated the
same way votes are keyed), who has not answered yet, results (via the pure `tally`) with estate and community
names, and rankings of subjects across campaigns of one template.

Live results count eligibility now; once a campaign closes, its eligible counts are frozen (`eligible_snapshot`)
so the published participation rate does not drift as residents come and go.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.surveys import rules, tally
from storage.repositories import surveys as repo
from storage.survey_models import Survey


def _rule(survey: Survey, areas=frozenset()) -> rules.Rule:
    return rules.Rule(areas, survey.owners_only, survey.per_household)


async def _eligible(session: AsyncSession, survey: Survey) -> list[tuple]:
    return [tuple(r) for r in (await session.execute(repo.eligible_residents(survey))).all()]


def _voter(row: tuple) -> rules.Voter:
    _, ref, community_id, estate_id, building, room = row
    return rules.Voter(ref, community_id, estate_id, None, building, room)


async def eligible_counts(session: AsyncSession, survey: Survey) -> dict[int, int]:
    """Estate key (estate id, 0 for none) → eligible residents, or households when one voice per household."""
    counts: dict[int, set] = defaultdict(set)
    for row in await _eligible(session, survey):
        if survey.per_household and not (rules.clean(row[4]) and rules.clean(row[5])):
            continue
        voter = _voter(row)
        counts[row[3] or 0].add(rules.household(voter) if survey.per_household else voter.ref)
    return {k: len(v) for k, v in counts.items()}


async def nonrespondents(session: AsyncSession, survey: Survey, *, household_key: bytes) -> list[int]:
    """Ids of eligible residents whose own (or household's) answer is not in."""
    refs, keys = await repo.responded_refs(session, survey.id)
    out = []
    for row in await _eligible(session, survey):
        if survey.per_household and not (rules.clean(row[4]) and rules.clean(row[5])):
            continue
        if row[1] not in refs and rules.voter_key(_rule(survey), _voter(row), household_key) not in keys:
            out.append(row[0])
    return out


async def results(session: AsyncSession, survey: Survey) -> dict:
    """The campaign's results (see tally.tally) plus `estate_names` / `community_names` for display."""
    rows = [tally.Row(c, e, a) for c, e, a in await repo.response_rows(session, survey.id)]
    if survey.eligible_snapshot is not None:
        eligible = {int(k): v for k, v in survey.eligible_snapshot.items()}
    else:
        eligible = await eligible_counts(session, survey)
    estate_community = await repo.estate_communities(session, survey.id)
    for r in rows:  # residents without an estate roll up to their own community
        estate_community.setdefault(r.estate_id or 0, r.community_id)
    result = tally.tally(survey.questions, rows, eligible, estate_community)
    estate_names, community_names = await repo.names(
        session, [k for k in estate_community if k], [c for c in estate_community.values() if c])
    result["estate_names"], result["community_names"] = estate_names, community_names
    for e in result["estates"]:
        e["estate"] = estate_names.get(e["estate_id"] or 0, "未填小区")
        e["community"] = community_names.get(e["community_id"], "—")
    for c in result["communities"]:
        c["community"] = community_names.get(c["community_id"], "—")
    channels = await repo.response_channels(session, survey.id)
    result["by_channel"] = tally.by_channel(survey.questions, [(c, a) for c, _, a in channels])
    counted: dict[int, int] = defaultdict(int)
    for _, estate_id, _ in channels:
        counted[estate_id or 0] += 1
    households = await repo.estate_households(session, [k for k in estate_community if k])
    homes = tally.household_participation(counted, households)
    for e in result["estates"]:  # participation against all the estate's households, not only bound residents
        e["households"] = households.get(e["estate_id"] or 0)
        e["household_participation"] = homes["per_estate"].get(e["estate_id"] or 0)
    result.update({k: homes[k] for k in ("households", "household_respondents", "household_participation")})
    return result


async def participation(session: AsyncSession, surveys: list[Survey]) -> list[dict]:
    """Respondents / eligible of each campaign (for lists and the dashboard panel)."""
    counts = await repo.count_responses(session, [s.id for s in surveys])
    out = []
    for s in surveys:
        eligible = (sum(s.eligible_snapshot.values()) if s.eligible_snapshot is not None
                    else sum((await eligible_counts(session, s)).values()))
        n = counts.get(s.id, 0)
        out.append({"id": s.id, "respondents": n, "eligible": eligible, "participation": tally.ratio(n, eligible)})
    return out


async def rankings(session: AsyncSession, template: str, community_ids=None,
                   statuses=("closed", "published")) -> list[dict]:
    """Subjects of finished campaigns of `template` (inside the jurisdiction) ranked by satisfaction rate."""
    stmt = select(Survey).where(Survey.template == template, Survey.status.in_(statuses))
    entries = []
    for s in await session.scalars(repo.visible(stmt, community_ids)):
        rows = [tally.Row(c, e, a) for c, e, a in await repo.response_rows(session, s.id)]
        entries.append((s.subject_type, s.subject_id, s.subject_name, len(rows), tally.overall(s.questions, rows)))
    return tally.rank(entries)
