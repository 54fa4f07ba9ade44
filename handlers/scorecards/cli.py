"""`linli scorecard`: the scorecards from the command line, for the authorities' reports.

    linli scorecard [--scope CODE] [--period 2026-Q3] [--kind property|developer] [--subject CODE] [--csv]

`--scope` is a district, street or community code (default: everything); `--period` a month (2026-11), quarter
(2026-Q3), half year (2026-H1) or year (2026), default this quarter. `--subject` prints one company's (or
developer's) card with its components and the sources of every figure; `--csv` prints the CSV export instead.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.cli import CliError, run_command


def add_subcommands(sub) -> None:
    p = sub.add_parser("scorecard", help="物业服务企业、开发建设单位评议（综合得分、排名与数据来源）")
    p.add_argument("--scope", help="区县、街道或社区编码（默认全部）")
    p.add_argument("--period", help="评议期：2026-11、2026-Q3、2026-H1 或 2026（默认本季度）")
    p.add_argument("--kind", choices=["property", "developer"], default="property",
                   help="property：物业服务企业（默认）；developer：开发建设单位")
    p.add_argument("--subject", help="只看一个单位（编码或名称），并列出每项数据的来源")
    p.add_argument("--csv", action="store_true", help="输出 CSV（导出给主管部门）")
    p.set_defaults(func=cmd_scorecard)


def cmd_scorecard(args) -> int:
    # a write transaction: the report may store settled campaigns' totals
    return run_command(lambda session, services: report(session, services.settings, args))


async def _scope(session, code: str | None) -> tuple[list[int] | None, str]:
    from storage.models import Community, District, Street

    if not code:
        return None, "全部辖区"
    code = code.strip().upper()
    for model, level in ((District, "district"), (Street, "street"), (Community, "community")):
        found = (await session.execute(select(model.id, model.name).where(model.code == code))).first()
        if found:
            stmt = select(Community.id)
            if level == "community":
                stmt = stmt.where(Community.id == found[0])
            elif level == "street":
                stmt = stmt.where(Community.street_id == found[0])
            else:
                stmt = stmt.join(Street, Street.id == Community.street_id).where(Street.district_id == found[0])
            return list(await session.scalars(stmt)), found[1]
    raise CliError(f"没有编码为 {code} 的区县、街道或社区")


def _pct(value, scale: float = 100) -> str:
    return "—" if value is None else f"{value * scale:.1f}%"


async def report(session, settings, args) -> str:
    from datetime import datetime, timezone

    from handlers.scorecards import export, periods, service
    from handlers.scorecards.config import COMPONENTS, ScorecardConfigError, from_settings
    from handlers.scorecards.figures import FLAG_LABELS
    from handlers.scorecards.queries import subject_by_code

    try:
        config = from_settings(settings)
    except ScorecardConfigError as exc:
        raise CliError(f"评分配置有误：{exc}") from None
    now = datetime.now(timezone.utc)
    try:
        period = periods.parse(args.period) if args.period else periods.containing(now, "quarter")
    except periods.PeriodError as exc:
        raise CliError(str(exc)) from None
    communities, label = await _scope(session, args.scope)
    subject = None
    if args.subject:
        subject = await subject_by_code(session, args.kind, args.subject)
        if subject is None:
            raise CliError(f"没有找到{service.KIND_LABELS[args.kind]}「{args.subject}」")
    from handlers.scorecards.queries import store_totals

    async def store(rows):
        await store_totals(session, rows)

    board = await service.build(session, args.kind, period, communities, config, now, with_previous=True,
                                detail=bool(args.csv or subject), store=store)
    if args.csv:
        return export.board_csv(board).lstrip("\ufeff").rstrip("\r\n")
    weights = "、".join(f"{COMPONENTS[k]} {w:g}" for k, w in config.weights_for(args.kind).items() if w)
    head = [f"{label} {period.label} {service.KIND_LABELS[args.kind]}评议", f"权重：{weights}"]
    if subject is None:
        lines = head + ["名次 | 综合得分 | 较上期 | 单位 | 满意率（答卷/参与率） | 每千户投诉 | 响应率 | 解决率 | 公示按时"]
        for c in board.cards:
            f, s, d = c.overall.tickets.figures, c.overall.survey, c.overall.disclosure
            change = "" if c.change is None else f"{c.change:+.1f}"
            flags = "、".join(FLAG_LABELS[x] for x in c.flags)
            per = c.overall.per_thousand()
            lines.append(" | ".join([
                str(c.rank) if c.rank else "—", "—" if c.score is None else f"{c.score:.1f}", change or "—",
                c.subject_name + (f"【{flags}，不排名】" if flags else ""),
                f"{_pct(s.rate)}（{s.respondents}/{_pct(s.participation)}）", "—" if per is None else f"{per:.1f}",
                _pct(f.response_rate, 1), _pct(f.resolution_rate, 1),
                "—" if d is None or not d.due else f"{d.on_time}/{d.due}"]))
        if not board.cards:
            lines.append("（该范围内没有物业服务企业或开发建设单位的数据）")
        return "\n".join(lines)
    card = board.card(subject[0])
    if card is None:
        raise CliError(f"「{subject[2]}」在 {label} 没有在管的小区或相关数据")
    src = await service.sources(session, board, card, communities, config, now, limit=None)
    rank = f"第 {card.rank} 名（共 {card.ranked_of} 家参与排名）" if card.rank else \
        "不排名：" + "、".join(FLAG_LABELS[x] for x in card.flags)
    lines = head + [f"{card.subject_name}：综合得分 {'—' if card.score is None else card.score}，{rank}", "组成："]
    for comp in card.components:
        value = "—" if comp.value is None else f"{comp.value:.1f}"
        lines.append(f"  {comp.label}：{value}，权重 {comp.weight:g}" + ("" if comp.used else f"（未计入：{comp.note}）"))
    lines.append("满意度调查（所用调查及答卷）：")
    names = {e.id: e.name for e in board.estates.values()}
    for s in src.campaigns:
        lines.append(f"  调查 {s.campaign.id}「{s.campaign.title}」{names.get(s.estate_id, s.estate_id)}："
                     f"{s.respondents}/{s.eligible} 份，满意率 {_pct(s.scores.satisfaction)}")
    f = card.overall.tickets.figures
    lines.append(f"投诉工单：{src.tickets_total} 件（有效 {f.accepted}，响应率 {_pct(f.response_rate, 1)}，"
                 f"解决率 {_pct(f.resolution_rate, 1)}，满意率 {_pct(f.satisfaction_rate, 1)}）")
    lines.append("  " + "、".join(row.number for row, _ in src.tickets) if src.tickets else "  （无）")
    if src.disclosures:
        from handlers.scorecards.disclosures import STATUS_LABELS

        lines.append("公示：")
        for o in src.disclosures:
            notice = f"，公示 {o.notice_id}" if o.notice_id else ""
            lines.append(f"  {names.get(o.instance.rule.estate_id)} {o.instance.rule.category} "
                         f"截止 {o.instance.due_day.isoformat()}：{STATUS_LABELS[o.status]}{notice}")
    return "\n".join(lines)
