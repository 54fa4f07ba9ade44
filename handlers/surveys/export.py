"""CSV exports of a campaign (through `handlers.csv_export`: UTF-8 with BOM, formula-like cells neutralised).

- `responses_csv`: anonymised responses — community, estate and the answers (labels, as residents chose them;
  comments with phone numbers, rooms and names redacted).
  No resident reference, no openid, no submission time (a time could be matched with the audit listing), and
  the rows are sorted by place and answers rather than by arrival, so a row cannot be traced to a person.
- `aggregates_csv`: the results per question and option, and participation per estate.
The audit listing of who voted when is separate (console/API, district level and above).
"""
from __future__ import annotations

import json

from handlers.csv_export import to_csv
from handlers.privacy.redact import redact
from handlers.surveys import rules
from storage.repositories import surveys as repo
from storage.survey_models import Survey


def _cell(q: dict, value) -> str:
    if value is None:
        return ""
    if q["kind"] == "rating":
        return str(value)
    if q["kind"] == "comment":
        return redact(str(value))
    return rules.answer_label(q, value).replace("、", ";")


async def responses_csv(session, survey: Survey) -> str:
    raw = await repo.response_rows(session, survey.id)
    estates, communities = await repo.names(session, {e for _, e, _ in raw if e}, {c for c, _, _ in raw if c})
    body = []
    for community_id, estate_id, answers in raw:
        body.append([communities.get(community_id, ""), estates.get(estate_id, "未填小区")]
                    + [_cell(q, answers.get(q["id"])) for q in survey.questions])
    body.sort(key=lambda row: json.dumps(row, ensure_ascii=False))
    header = ["序号", "社区", "小区"] + [f"{n}. {q['title']}" for n, q in enumerate(survey.questions, 1)]
    return to_csv([header] + [[n, *row] for n, row in enumerate(body, 1)])


def aggregates_csv(survey: Survey, results: dict) -> str:
    rows: list[list] = [["部分", "题目", "项目", "数量", "比例/数值"]]
    rows.append(["总体", survey.title, "参与", results["respondents"], _pct(results["participation"])])
    rows.append(["总体", survey.title, "应参与", results["eligible"], ""])
    rows.append(["总体", survey.title, "综合满意率", results["rated"], _pct(results["satisfaction"])])
    rows.append(["总体", survey.title, "平均分", results["rated"], _num(results["mean"])])
    for q in results["questions"]:
        for d in q.get("distribution", []):
            rows.append(["题目", q["title"], d["label"], d["count"], _pct(d["share"])])
        if q["kind"] == "rating":
            rows.append(["题目", q["title"], "满意率（4–5 分）", q["rated"], _pct(q["satisfaction"])])
            rows.append(["题目", q["title"], "平均分", q["rated"], _num(q["mean"])])
        rows.append(["题目", q["title"], "未答/跳过", q["skipped"], ""])
    for e in results["estates"]:
        name = f"{e['community']} {e['estate']}"
        rows.append(["小区", name, "参与/应参与", f"{e['respondents']}/{e['eligible']}", _pct(e["participation"])])
        rows.append(["小区", name, "满意率", e["rated"], _pct(e["satisfaction"])])
    for c in results["communities"]:
        rows.append(["社区", c["community"], "参与/应参与", f"{c['respondents']}/{c['eligible']}",
                     _pct(c["participation"])])
        rows.append(["社区", c["community"], "满意率", c["rated"], _pct(c["satisfaction"])])
    return to_csv(rows)


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _num(value) -> str:
    return "" if value is None else f"{value:.2f}"
