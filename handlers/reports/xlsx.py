"""The report as an XLSX workbook (openpyxl): one sheet per table — the overview with last month and the change,
tickets by channel, category, company and community, the six-month trend, partner organisations, disclosures, surveys, satisfaction per
company and developer, policy questions, and (street and district reports) every ranking in full.
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from handlers.reports.figures import Report, pct
from handlers.tickets.stats import Figures

TICKET_HEADER = ["名称", "受理", "有效件", "不予受理", "合并", "在办", "响应率%", "解决率%", "按期办结率%", "满意率%",
                 "评价数", "不出社区率%", "不出街道率%", "超期", "响应中位数(小时)", "办结中位数(天)"]


def _ticket_row(name: str, f: Figures) -> list:
    return [name, f.received, f.accepted, f.rejected, f.merged, f.open, f.response_rate, f.resolution_rate,
            f.on_time_rate, f.satisfaction_rate, f.rated, f.community_share, f.street_share, f.overdue,
            f.median_response_hours, f.median_resolve_days]


def append_text_safely(ws, row: list) -> None:
    """Append a row; text that a spreadsheet would read as a formula (=, +, -, @ first) stays text."""
    ws.append(row)
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


PARTNER_HEADER = ["类别", "承办单位", "交办", "签收", "响应中位数(小时)", "响应P90(小时)", "报告办结",
                  "办结中位数(小时)", "办结P90(小时)", "超期", "退回"]


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    ws = book.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_text_safely(ws, row)
    for i, name in enumerate(header, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(name) * 2 + 2))
    ws.freeze_panes = "B2"


def workbook(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "概览", ["指标", report.period.key, "上月", "变化", "单位"],
           [[m.label, m.value, m.previous, m.change, m.unit] for m in report.headline])
    _sheet(book, "投诉-渠道", TICKET_HEADER, [_ticket_row(n, f) for n, f in report.by_channel])
    _sheet(book, "投诉-类别", TICKET_HEADER, [_ticket_row(n, f) for n, f in report.by_category])
    _sheet(book, "投诉-物业企业", TICKET_HEADER, [_ticket_row(n, f) for n, f in report.by_company])
    _sheet(book, "投诉-社区", TICKET_HEADER, [_ticket_row(c.name, c.tickets) for c in report.communities])
    _sheet(book, "投诉-趋势", ["月份"] + TICKET_HEADER[1:], [_ticket_row(m, f) for m, f in report.trend])
    _sheet(book, "承办单位", PARTNER_HEADER, [[k, n, f.handed, f.signed, f.median_response_hours,
                                              f.p90_response_hours, f.done, f.median_resolution_hours,
                                              f.p90_resolution_hours, f.overdue, f.sent_back]
                                             for k, n, f in report.by_partner])
    _sheet(book, "社区", ["社区", "联席会议", "纪要已公开", "应公示", "按时公示", "逾期公示", "未公示", "户数",
                         "绑定居民", "绑定率%", "调查答卷", "调查覆盖户数", "调查满意率%", "政策提问", "自动解答"],
           [[c.name, c.meetings, c.minutes, c.disclosure.due, c.disclosure.on_time, c.disclosure.late,
             c.disclosure.missing, c.households, c.bound, c.value("binding"), c.respondents, c.survey_households,
             c.value("survey_satisfaction"), c.questions, c.answered] for c in report.communities])
    _sheet(book, "公示", ["类别", "应公示", "按时", "逾期", "未公示", "未到期", "按时率%"],
           [[n, t.due, t.on_time, t.late, t.missing, t.pending, pct(t.on_time_rate)]
            for n, t in report.disclosure_by_category])
    _sheet(book, "满意度调查", ["编号", "调查", "评议对象", "答卷", "应参与", "参与率%", "覆盖户数", "按户数参与率%",
                              "满意率%", "平均分"],
           [[c.id, c.title, c.subject, c.respondents, c.eligible, c.participation, c.households, c.coverage,
             pct(c.scores.satisfaction), None if c.scores.mean is None else round(c.scores.mean, 2)]
            for c in report.campaigns])
    _sheet(book, "企业满意率", ["类别", "单位", "答卷", "满意率%", "平均分"],
           [[k, n, r, pct(s.satisfaction), None if s.mean is None else round(s.mean, 2)]
            for k, n, s, r in report.satisfaction_by_subject])
    q = report.questions
    _sheet(book, "政策问答", ["项目", "数量"],
           [["提问", q["asked"]], ["自动解答", q["answered"]], ["未能解答", q["unanswered"]],
            ["转人工", q["inquiries"]], ["转人工已答复", q["inquiries_answered"]]]
           + [[f"热门：{t}", n] for t, n in q["topics"]] + [[f"未解答：{t}", n] for t, n in q["gaps"]])
    for ranking in report.rankings:
        title = f"排名-{ranking.label}"[:31].replace("（", "(").replace("）", ")")
        _sheet(book, title, ["名次", "社区", ranking.label], [[r, name, value] for r, name, value in ranking.rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
