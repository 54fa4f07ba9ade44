"""Pure wording of what residents receive about a campaign: invitation, reminder, and the published results
(text and tables for the notice). Times are shown in Beijing time."""
from __future__ import annotations

from bot.localtime import chinese_text
from handlers.surveys.templates_builtin import SUBJECT_LABELS

local = chinese_text  # the survey messages' time format


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def rule_text(owners_only: bool, per_household: bool) -> str:
    who = "本小区业主" if owners_only else "本小区居民"
    return who + ("，每户一票" if per_household else "，每人一票")


def invitation(survey) -> tuple[str, str]:
    """(title, text) of the invitation pushed when the campaign opens."""
    subject = SUBJECT_LABELS.get(survey.subject_type, "调查对象")
    text = (f"【满意度调查】{survey.title}\n{subject}：{survey.subject_name}\n参与范围：{rule_text(survey.owners_only, survey.per_household)}\n"
            f"截止时间：{local(survey.closes_at)}\n共 {len(survey.questions)} 题，约需 2 分钟。"
            "回复「调查」开始作答，可随时回复「取消」暂停，下次接着答。调查结果将作为考核和评价的依据，感谢参与！")
    return survey.title, text


def reminder(survey, round_no: int) -> tuple[str, str]:
    text = (f"【满意度调查提醒】「{survey.title}」将于 {local(survey.closes_at)} 截止，您还没有提交。"
            "回复「调查」即可作答（已答的题目会保留）。如不想参加，可回复「退订 调查」。")
    return f"{survey.title}（提醒）", text


def results_notice(survey, results: dict, estate_names: dict[int, str],
                   community_names: dict[int, str]) -> tuple[str, str, list[dict]]:
    """(title, body, tables) of the notice that publishes a campaign's final results."""
    subject = SUBJECT_LABELS.get(survey.subject_type, "调查对象")
    lines = [f"{survey.title}已于 {local(survey.closed_at, with_time=False)} 结束，结果公布如下。",
             f"{subject}：{survey.subject_name}",
             f"参与：{results['respondents']} {'户' if survey.per_household else '人'}，"
             f"应参与 {results['eligible']}，参与率 {pct(results['participation'])}。",
             f"综合满意率（评 4–5 分的比例）：{pct(results['satisfaction'])}；平均分："
             f"{'—' if results['mean'] is None else format(results['mean'], '.2f')}（满分 5 分）。"]
    if results.get("thin"):
        lines.append("说明：参与人数较少，结果仅供参考。")
    lines.append("各项结果：")
    for q in results["questions"]:
        if q["kind"] == "rating":
            lines.append(f"· {q['title']}：满意率 {pct(q['satisfaction'])}，平均 "
                         f"{'—' if q['mean'] is None else format(q['mean'], '.2f')} 分（{q['rated']} 份）")
        elif q["kind"] in ("single", "multiple"):
            top = sorted(q["distribution"], key=lambda d: -d["count"])[:3]
            lines.append(f"· {q['title']}：" + "，".join(f"{d['label']} {pct(d['share'])}" for d in top))
    lines.append("感谢各位居民的参与！")
    questions = [["题目", "份数", "满意率", "平均分"]] + [
        [q["title"], q["rated"], pct(q["satisfaction"]), "—" if q["mean"] is None else f"{q['mean']:.2f}"]
        for q in results["questions"] if q["kind"] == "rating"]
    estates = [["小区", "参与", "应参与", "参与率", "满意率"]] + [
        [estate_names.get(e["estate_id"] or 0, "未填小区"), e["respondents"], e["eligible"],
         pct(e["participation"]), pct(e["satisfaction"])] for e in results["estates"]]
    tables = [{"title": "各项满意度", "columns": questions[0], "rows": questions[1:]},
              {"title": "各小区参与情况", "columns": estates[0], "rows": estates[1:]}]
    return f"{survey.title}结果公布", "\n".join(lines), tables
