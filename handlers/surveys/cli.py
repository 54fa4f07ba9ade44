"""`linli survey list|create|results|publish|close` (added to the main parser by `add_subcommands`).

    linli survey create --template property --subject WY-JA --scope HX-YYL-YJ \
        --opens "2026-12-01 09:00" --closes "2026-12-15 18:00"        # Beijing time unless an offset is given
    linli survey results 3 [--csv | --responses]                       # summary, aggregates CSV or anonymised CSV
    linli survey publish 3

`--scope` takes org codes of one level (district HX, street HX-YYL, community HX-YYL-YJ, estate HX-YYL-YJ-01);
the level is found from the codes. `create` schedules the campaign unless `--draft`; the scheduler of
`linli worker` opens it, invites, reminds and closes it at its times.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime, timezone

from bot.cli import in_transaction
from handlers.surveys import export, messages, service, stats
from handlers.surveys.access import when
from handlers.surveys.templates_builtin import TEMPLATE_LABELS
from storage.repositories import surveys as repo


def _run(work) -> int:
    try:
        out = asyncio.run(in_transaction(work))
    except service.SurveyError as exc:
        print(f"操作未完成：{exc}", file=sys.stderr)
        return 1
    except LookupError as exc:
        print(str(exc.args[0]), file=sys.stderr)
        return 1
    if out:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


async def _survey(session, survey_id: int):
    survey = await repo.get(session, survey_id)
    if survey is None:
        raise LookupError(f"没有编号为 {survey_id} 的调查。用 linli survey list 查看。")
    return survey


def cmd_list(args: argparse.Namespace) -> int:
    async def work(session):
        found = await service.list_campaigns(session, statuses=[args.status] if args.status else None, limit=200)
        if not found:
            return "还没有满意度调查。用 linli survey create 新建。"
        lines = []
        for s, p in zip(found, await stats.participation(session, found)):
            lines.append(f"{s.id:>4}  {service.STATUS_LABELS[s.status]:<4} {s.title}  参与 {p['respondents']}/"
                         f"{p['eligible']}（{messages.pct(p['participation'])}）  截止 {messages.local(s.closes_at)}")
        return "\n".join(lines)

    return _run(work)


async def _scope(session, codes: list[str]) -> tuple[str, list[int]]:
    for level in ("estate", "community", "street", "district"):
        found = await repo.ids_for_codes(session, level, codes)
        if found:
            missing = [c for c in codes if c.upper() not in found]
            if missing:
                raise service.SurveyError(f"这些编码不是同一级辖区或不存在：{'、'.join(missing)}")
            return level, list(found.values())
    raise service.SurveyError("找不到辖区编码：" + "、".join(codes))


def cmd_create(args: argparse.Namespace) -> int:
    async def work(session):
        try:
            opens, closes = when(args.opens), when(args.closes)
        except ValueError:
            raise service.SurveyError("时间格式应为 2026-12-01 09:00") from None
        level, ids = await _scope(session, args.scope)
        now = datetime.now(timezone.utc)
        survey = await service.create(
            session, template=args.template, subject=args.subject, title=args.title, scope_level=level,
            scope_ids=ids, opens_at=opens, closes_at=closes, created_by=f"cli:{getpass.getuser()}"[:64], now=now,
            owners_only=not args.everyone, per_household=not args.per_person, quota_per_estate=args.quota,
            reminders_max=args.reminders, reminder_gap_hours=args.reminder_gap)
        if not args.draft:
            await service.schedule(session, survey, now)
        areas = await repo.areas(session, survey.id)
        return (f"调查 {survey.id} 已创建（{service.STATUS_LABELS[survey.status]}）：{survey.title}\n"
                f"  范围：{len(areas)} 个{'小区' if any(e for _, e in areas) else '社区'}；"
                f"{messages.rule_text(survey.owners_only, survey.per_household)}\n"
                f"  {messages.local(survey.opens_at)} 开始，{messages.local(survey.closes_at)} 截止；"
                f"由 linli worker 按时开启、邀请、提醒和结束。")

    return _run(work)


def cmd_results(args: argparse.Namespace) -> int:
    async def work(session):
        survey = await _survey(session, args.id)
        if args.responses:
            return await export.responses_csv(session, survey)
        result = await stats.results(session, survey)
        if args.csv:
            return export.aggregates_csv(survey, result)
        title, body, tables = messages.results_notice(survey, result, result["estate_names"],
                                                      result["community_names"])
        lines = [f"{title}（{service.STATUS_LABELS[survey.status]}）", body.split("\n", 1)[1]]
        for t in tables:
            lines.append(f"\n{t['title']}")
            lines += ["  " + " | ".join(str(c) for c in row) for row in [t["columns"], *t["rows"]]]
        return "\n".join(lines)

    return _run(work)


def cmd_publish(args: argparse.Namespace) -> int:
    async def work(session):
        survey = await _survey(session, args.id)
        ref = await service.publish(session, survey, args.by or f"cli:{getpass.getuser()}",
                                    datetime.now(timezone.utc))
        return f"调查 {survey.id} 的结果已公布（{ref}），将推送给范围内的居民。"

    return _run(work)


def cmd_close(args: argparse.Namespace) -> int:
    async def work(session):
        survey = await _survey(session, args.id)
        await service.close_now(session, survey, datetime.now(timezone.utc))
        return f"调查 {survey.id} 已结束。公布结果：linli survey publish {survey.id}"

    return _run(work)


def add_subcommands(subparsers) -> None:
    sub = subparsers.add_parser("survey", help="满意度调查：新建、查看结果、公布").add_subparsers(
        dest="survey_command", metavar="子命令", required=True)
    p = sub.add_parser("list", help="列出调查及参与情况")
    p.add_argument("--status", choices=list(service.STATUS_LABELS), help="只看某个状态")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("create", help="从模板新建调查并排期")
    p.add_argument("--template", required=True, choices=[k for k in TEMPLATE_LABELS if k != "custom"],
                   help="property 物业服务质量 / developer 开发建设单位 / old-estate 旧楼区长效管理")
    p.add_argument("--subject", required=True, help="物业企业或开发单位的编码（如 WY-JA），或管理单位名称")
    p.add_argument("--scope", required=True, nargs="+", help="辖区编码（同一级，可多个）")
    p.add_argument("--opens", required=True, help="开始时间，如 2026-12-01T09:00（北京时间）")
    p.add_argument("--closes", required=True, help="截止时间")
    p.add_argument("--title", help="标题（默认按对象和模板生成）")
    p.add_argument("--everyone", action="store_true", help="租户也可参与（默认仅限业主）")
    p.add_argument("--per-person", action="store_true", help="每人一票（默认每户一票）")
    p.add_argument("--quota", type=int, help="每个小区最多收多少份")
    p.add_argument("--reminders", type=int, default=2, help="最多提醒几次（默认 2）")
    p.add_argument("--reminder-gap", type=int, default=48, help="两次提醒至少间隔几小时（默认 48）")
    p.add_argument("--draft", action="store_true", help="只保存草稿，不排期")
    p.set_defaults(func=cmd_create)
    p = sub.add_parser("results", help="查看结果（实时或最终）")
    p.add_argument("id", type=int)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--csv", action="store_true", help="输出统计 CSV")
    group.add_argument("--responses", action="store_true", help="输出匿名答卷 CSV")
    p.set_defaults(func=cmd_results)
    p = sub.add_parser("publish", help="公布已结束调查的结果（生成公告并推送）")
    p.add_argument("id", type=int)
    p.add_argument("--by", help="署名（默认 cli:当前用户）")
    p.set_defaults(func=cmd_publish)
    p = sub.add_parser("close", help="提前结束进行中的调查")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_close)
