"""CSV exports for the authorities (`handlers.csv_export`: UTF-8 with BOM, formula-like cells neutralised): the
scorecards of a jurisdiction (one row per company, then one per estate), and one company's source tickets with
what each counts for. Pure: they format what `service` computed.
"""
from __future__ import annotations

from bot.localtime import local_text
from handlers.csv_export import to_csv
from handlers.scorecards.figures import FLAG_LABELS, Part
from handlers.scorecards.service import Board, Sources
from handlers.tickets.rules import CATEGORIES, LEVEL_LABELS, STATUS_LABELS

HEADER = ["层级", "名次", "单位编码", "单位", "小区", "社区", "户数", "综合得分", "较上期", "标注", "调查答卷", "应参与户数",
          "参与率%", "满意率%", "平均分", "所用调查", "受理投诉", "有效件", "每千户投诉", "响应率%", "解决率%", "按期办结率%",
          "办结后满意率%", "评价数", "升级出社区%", "办结时长中位数(天)", "应公示", "按时公示", "逾期公示", "未公示"]


def _num(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _pct(fraction) -> str:
    return "" if fraction is None else f"{fraction * 100:.1f}"


def _figures(part: Part) -> list:
    s, t, f = part.survey, part.tickets, part.tickets.figures
    d = part.disclosure
    return [s.respondents, s.eligible, _pct(s.participation), _pct(s.rate), _num(s.mean, 2),
            "；".join(sorted({f"{src.campaign.id} {src.campaign.title}" for src in s.sources})),
            f.received, f.accepted, _num(part.per_thousand(), 2), _num(f.response_rate), _num(f.resolution_rate),
            _num(f.on_time_rate), _num(f.satisfaction_rate), f.rated, _pct(t.escalated_share),
            _num(f.median_resolve_days)] + ([d.due, d.on_time, d.late, d.missing] if d is not None else [""] * 4)


def board_csv(board: Board) -> str:
    rows: list[list] = [HEADER]
    for card in board.cards:
        flags = "、".join(FLAG_LABELS[f] for f in card.flags)
        rows.append(["单位合计", card.rank or "", card.subject_code, card.subject_name, "", "",
                     card.overall.households or "", _num(card.score), _num(card.change), flags]
                    + _figures(card.overall))
        for row in card.estates:
            rows.append(["小区", "", card.subject_code, card.subject_name, row.estate, row.community,
                         row.part.households or "", _num(row.score), "", "、".join(FLAG_LABELS[f] for f in row.flags)]
                        + _figures(row.part))
    return to_csv(rows)


def sources_csv(sources: Sources, estates: dict[int, str]) -> str:
    """One row per ticket counted against the subject, with a 1 in each figure it counts for."""
    marks = [("accepted", "有效件"), ("response_due", "应响应"), ("responded_in_time", "按时响应"),
             ("resolved", "已办结"), ("resolved_in_time", "按期办结"), ("rated", "已评价"), ("satisfied", "满意"),
             ("escalated", "升级出社区")]
    rows: list[list] = [["工单编号", "小区", "类别", "状态", "当前层级", "受理时间", "首次响应", "办结时间", "评价"]
                        + [label for _, label in marks]]
    for ticket, counted in sources.tickets:
        rows.append([ticket.number, estates.get(ticket.estate_id, "") if ticket.estate_id else "",
                     CATEGORIES.get(ticket.category, ticket.category), STATUS_LABELS.get(ticket.status, ticket.status),
                     LEVEL_LABELS.get(ticket.level, ticket.level), local_text(ticket.created_at),
                     local_text(ticket.responded_at) if ticket.responded_at else "",
                     local_text(ticket.resolved_at) if ticket.resolved_at else "",
                     ticket.rating or ""] + [int(counted[key]) for key, _ in marks])
    return to_csv(rows)
