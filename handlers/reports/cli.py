"""`linli report month`: a monthly report from the command line, for the street or district office.

    linli report month --scope CODE [--month 2026-11] [--pdf FILE] [--xlsx FILE]

`--scope` is a district, street or community code; `--month` defaults to last month. Prints the overview (each
figure with last month's and the change); `--pdf` and `--xlsx` also write the report as a PDF (headless
Chromium, `LINLI_REPORT_CHROMIUM`) and as an Excel workbook with one sheet per table.
"""
from __future__ import annotations

from pathlib import Path

from bot.cli import CliError, run_command


def add_subcommands(sub) -> None:
    p = sub.add_parser("report", help="月度报告（投诉、会议、公示、调查、居民绑定、政策问答，含上月对比和社区排名）")
    inner = p.add_subparsers(dest="report_command", required=True)
    m = inner.add_parser("month", help="某月的月报")
    m.add_argument("--scope", required=True, help="区县、街道或社区编码，如 HX-YYL")
    m.add_argument("--month", help="月份，如 2026-11（默认上个月）")
    m.add_argument("--pdf", metavar="FILE", help="同时生成 PDF 文件")
    m.add_argument("--xlsx", metavar="FILE", help="同时生成 Excel 文件（每张表一个工作表）")
    m.set_defaults(func=cmd_month)


def cmd_month(args) -> int:
    return run_command(lambda session, services: month(session, services.settings, args))


async def month(session, settings, args) -> str:
    from datetime import datetime, timezone

    from handlers.console.authz import Scope
    from handlers.reports import scope, service
    from storage.models import StaffLevel

    now = datetime.now(timezone.utc)
    place = await scope.find(session, args.scope)
    if place is None:
        raise CliError(f"没有编码为 {args.scope} 的区县、街道或社区")
    report = await service.report_for(session, Scope(StaffLevel.admin), place.code, args.month, now)
    lines = [report.title, f"范围：{place.name}（{len(place.communities)} 个社区）  数据截至：{now:%Y-%m-%d %H:%M} UTC",
             "指标 | 本月 | 上月 | 变化"]
    for m in report.headline:
        lines.append(f"{m.label} | {m.text()} | {m.text(m.previous) if m.previous is not None else '—'} | "
                     f"{m.change_text}")
    if report.no_meeting:
        lines.append("本月未召开联席会议的社区：" + "、".join(report.no_meeting))
    for option, suffix, make in (("xlsx", "xlsx", None), ("pdf", "pdf", None)):
        target = getattr(args, option)
        if not target:
            continue
        if suffix == "xlsx":
            from handlers.reports.xlsx import workbook

            data = workbook(report)
        else:
            data = await service.to_pdf(report, settings, "linli report")
        try:
            Path(target).write_bytes(data)
        except OSError as exc:
            raise CliError(f"无法写入 {target}：{exc.strerror}") from None
        lines.append(f"已写入 {target}（{len(data):,} 字节）")
    return "\n".join(lines)
