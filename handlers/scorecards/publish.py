"""Publishing a scorecard to residents: staff pick which figure groups to show (综合得分与排名, 满意度调查, 投诉办理,
公示情况); a frozen snapshot of exactly those figures — the company overall and each estate — is stored with the
estates it covers. 「物业评分」 in chat reads the latest live publication for the resident's estate and its current
company; nothing unpublished ever reaches residents. Withdrawing hides it (the row and who withdrew it stay).

`snapshot` and `resident_text` are pure; the rest reads and writes through the caller's session.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import local_text
from handlers.scorecards.figures import FLAG_LABELS, Card, Part
from handlers.scorecards.periods import Period
from storage.models import Estate
from storage.repositories import scorecards as repo
from storage.scorecard_models import ScorecardPublication, ScorecardPublicationEstate

GROUPS = {"composite": "综合得分与排名", "survey": "满意度调查", "tickets": "投诉办理", "disclosure": "公示情况"}
SUBJECT_WORDS = {"property": ("物业服务评分", "物业服务企业"), "developer": ("开发建设单位评分", "开发建设单位")}


class PublishError(ValueError):
    """Why a publication cannot be made (Chinese)."""


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _pick(kind: str, part: Part, groups: list[str], score: float | None, flags: list[str]) -> dict:
    out: dict = {}
    if "composite" in groups:
        out["composite"] = {"score": score, "flags": list(flags)}
    if "survey" in groups:
        s = part.survey
        out["survey"] = {"rate": _r(s.rate), "mean": _r(s.mean), "respondents": s.respondents,
                         "eligible": s.eligible, "participation": _r(s.participation)}
    if "tickets" in groups:
        f = part.tickets.figures
        per_thousand = part.per_thousand()
        out["tickets"] = {"received": f.received, "per_thousand": _r(per_thousand, 2),
                          "response_rate": f.response_rate, "resolution_rate": f.resolution_rate,
                          "satisfaction_rate": f.satisfaction_rate, "rated": f.rated,
                          "escalated_share": _r(part.tickets.escalated_share),
                          "median_resolve_days": f.median_resolve_days}
    if "disclosure" in groups and kind == "property" and part.disclosure is not None:
        d = part.disclosure
        out["disclosure"] = {"due": d.due, "on_time": d.on_time, "late": d.late, "missing": d.missing}
    return out


def check_groups(kind: str, groups: list[str]) -> list[str]:
    """The chosen groups in a fixed order; PublishError when none or an unknown one is chosen."""
    chosen = [g for g in GROUPS if g in set(groups)]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise PublishError("可公布的内容为 " + "、".join(f"{k}（{v}）" for k, v in GROUPS.items()))
    if kind == "developer" and "disclosure" in chosen:
        raise PublishError("开发建设单位没有公示要求，不能公布「公示情况」")
    if not chosen:
        raise PublishError("请至少选择一项要公布的内容")
    return chosen


def snapshot(card: Card, groups: list[str], period: Period, area_label: str, estate_ids: list[int]) -> dict:
    """The figures a publication freezes: only the chosen groups, overall and for each covered estate."""
    rows = {row.estate_id: row for row in card.estates}
    overall = _pick(card.kind, card.overall, groups, card.score, card.flags)
    if "composite" in groups:
        overall["composite"] |= {"rank": card.rank, "ranked_of": card.ranked_of}
    return {"period": period.key, "period_label": period.label, "area": area_label, "groups": groups,
            "overall": overall,
            "estates": {str(e): {"name": rows[e].estate, **_pick(card.kind, rows[e].part, groups, rows[e].score,
                                                                  rows[e].flags)} for e in estate_ids if e in rows}}


def _pct(value: float | None, scale: float = 100) -> str:
    return "—" if value is None else f"{value * scale:.1f}%"


def _lines(group: str, data: dict, where: str) -> str | None:
    if group == "survey":
        if not data["respondents"]:
            return f"{where}暂无调查答卷"
        return (f"{where}满意率 {_pct(data['rate'])}，平均 {data['mean']:.2f} 分（满分 5 分），"
                f"{data['respondents']} 份答卷，参与率 {_pct(data['participation'])}")
    if group == "tickets":
        if not data["received"]:
            return f"{where}本期没有投诉"
        per = "" if data["per_thousand"] is None else f"（每千户 {data['per_thousand']:.1f} 件）"
        return (f"{where}受理投诉 {data['received']} 件{per}，响应率 {_pct(data['response_rate'], 1)}，"
                f"解决率 {_pct(data['resolution_rate'], 1)}，办结后满意率 {_pct(data['satisfaction_rate'], 1)}")
    if group == "disclosure":
        if not data["due"]:
            return f"{where}本期没有到期的公示事项"
        return (f"{where}应公示 {data['due']} 次：按时 {data['on_time']} 次，逾期 {data['late']} 次，"
                f"未公示 {data['missing']} 次")
    return None


def resident_text(kind: str, subject_name: str, figures: dict, published_at: datetime,
                  estate_id: int | None) -> str:
    """What a resident reads for 「物业评分」: the published groups, the company overall and their own estate."""
    title, noun = SUBJECT_WORDS[kind]
    lines = [f"【{title}】{subject_name}",
             f"{figures['period_label']}，{figures['area']}公布（{local_text(published_at, False)}）"]
    overall, mine = figures["overall"], figures["estates"].get(str(estate_id)) if estate_id else None
    composite = overall.get("composite")
    if composite:
        if composite["score"] is None or composite["flags"]:
            reasons = "、".join(FLAG_LABELS.get(f, f) for f in composite["flags"]) or "无可评分项"
            score = "" if composite["score"] is None else f"{composite['score']:.1f} 分，"
            lines.append(f"综合得分：{score}{reasons}，暂不排名")
        else:
            lines.append(f"综合得分：{composite['score']:.1f} 分（满分 100），在{figures['area']}"
                         f" {composite['ranked_of']} 家{noun}中排第 {composite['rank']} 名")
    labels = {"survey": "满意度调查", "tickets": "投诉办理", "disclosure": "公示情况"}
    for group, label in labels.items():
        if group not in overall:
            continue
        lines.append(f"{label}：" + _lines(group, overall[group], ""))
        if mine and group in mine and len(figures["estates"]) > 1:
            lines.append("　" + _lines(group, mine[group], f"其中{mine['name']}："))
    topic = "物业服务" if kind == "property" else "房屋质量"
    lines.append(f"以上为工作人员公布的数据；对{topic}有意见，可回复「投诉」。")
    return "\n".join(lines)


# ----- storage ---------------------------------------------------------------------------------------------------

async def create(session: AsyncSession, card: Card, groups: list[str], period: Period, area_label: str,
                 estate_ids: list[int], by: str, now: datetime) -> ScorecardPublication:
    if not estate_ids:
        raise PublishError("该单位在所选范围内没有在管的小区，无法向居民公布")
    figures = snapshot(card, groups, period, area_label, estate_ids)
    pub = ScorecardPublication(kind=card.kind, subject_id=card.subject_id, subject_name=card.subject_name,
                               period=period.key, area_label=area_label[:128], fields=groups, figures=figures,
                               published_by=by[:64], published_at=now)
    session.add(pub)
    await session.flush()
    session.add_all(ScorecardPublicationEstate(publication_id=pub.id, estate_id=e) for e in estate_ids)
    await session.flush()
    return pub


async def withdraw(session: AsyncSession, publication_id: int, by: str, now: datetime) -> bool:
    return await repo.withdraw_publication(session, publication_id, by, now)


async def latest_for_estate(session: AsyncSession, kind: str, subject_id: int, estate_id: int
                            ) -> ScorecardPublication | None:
    stmt = (select(ScorecardPublication)
            .join(ScorecardPublicationEstate, ScorecardPublicationEstate.publication_id == ScorecardPublication.id)
            .where(ScorecardPublicationEstate.estate_id == estate_id, ScorecardPublication.kind == kind,
                   ScorecardPublication.subject_id == subject_id, ScorecardPublication.withdrawn_at.is_(None))
            .order_by(ScorecardPublication.published_at.desc(), ScorecardPublication.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


def _touching(communities):
    return exists().where(ScorecardPublicationEstate.publication_id == ScorecardPublication.id,
                          ScorecardPublicationEstate.estate_id == Estate.id, Estate.community_id.in_(communities))


async def listing(session: AsyncSession, communities, *, kind: str | None = None, subject_id: int | None = None,
                  limit: int = 50) -> list[ScorecardPublication]:
    """Publications covering any estate of the jurisdiction (None: all), newest first."""
    stmt = select(ScorecardPublication).order_by(ScorecardPublication.published_at.desc(),
                                                 ScorecardPublication.id.desc()).limit(limit)
    if communities is not None:
        stmt = stmt.where(_touching(communities))
    if kind:
        stmt = stmt.where(ScorecardPublication.kind == kind)
    if subject_id is not None:
        stmt = stmt.where(ScorecardPublication.subject_id == subject_id)
    return list(await session.scalars(stmt))


async def covered_communities(session: AsyncSession, publication_id: int) -> set[int]:
    stmt = (select(Estate.community_id).join(ScorecardPublicationEstate,
                                             ScorecardPublicationEstate.estate_id == Estate.id)
            .where(ScorecardPublicationEstate.publication_id == publication_id))
    return set(await session.scalars(stmt))
