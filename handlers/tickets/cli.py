"""`linli ticket …`: the staff side from the command line (and until the console is at hand).

    linli ticket list  [--scope CODE] [--status open|received|…] [--level community|street|district] [--limit 50]
    linli ticket show  NUMBER
    linli ticket assign   NUMBER --as USERNAME (--staff USERNAME | --partner property|developer|dept:部门)
    linli ticket resolve  NUMBER --as USERNAME --text 办理结果
    linli ticket escalate NUMBER --as USERNAME --reason 原因
    linli ticket stats [--scope CODE] [--since 2026-11-01] [--until 2026-11-30] [--csv]

Actions run as the named staff account, under the same rules as the console, and are audited (via `cli`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import or_, select

from bot.cli import CliError
from bot.cli import run_command as _run
from handlers import csv_export
from handlers.privacy.redact import mask


async def _communities(session, code: str | None) -> list[int] | None:
    from storage.models import Community, District, Street

    if not code:
        return None
    code = code.strip().upper()
    stmt = (select(Community.id).join(Street, Street.id == Community.street_id)
            .join(District, District.id == Street.district_id)
            .where(or_(Community.code == code, Street.code == code, District.code == code)))
    ids = list((await session.execute(stmt)).scalars())
    if not ids:
        raise CliError(f"没有编码为 {code} 的区县、街道或社区")
    return ids


async def _ticket(session, number: str):
    from storage.repositories import tickets as repo

    ticket = await repo.by_number(session, number)
    if ticket is None:
        raise CliError(f"没有编号为 {number} 的工单")
    return ticket


def cmd_list(args) -> int:
    async def work(session, services):
        from handlers.tickets.notify import local
        from handlers.tickets.rules import CATEGORIES, STATUS_LABELS
        from storage.repositories import tickets as repo
        from storage.ticket_models import Ticket

        stmt = repo.listing(status=args.status or None, level=args.level).limit(args.limit)
        ids = await _communities(session, args.scope)
        if ids is not None:
            stmt = stmt.where(Ticket.community_id.in_(ids))
        rows = list((await session.execute(stmt)).scalars())
        lines = [f"{t.number}  {STATUS_LABELS[t.status]:<4}  {t.level:<9}  {CATEGORIES[t.category]:<6}  "
                 f"办结期限 {local(t.resolve_due_at)}  {t.phone_masked or ''}" for t in rows]
        return "\n".join(lines) or "没有符合条件的工单。"

    return _run(work)


def cmd_show(args) -> int:
    async def work(session, services):
        from handlers.tickets import rules
        from handlers.tickets.notify import local
        from storage.repositories import tickets as repo

        t = await _ticket(session, args.number)
        lines = [f"{t.number}  {rules.CATEGORIES[t.category]}  {rules.STATUS_LABELS[t.status]}  "
                 f"层级：{rules.LEVEL_LABELS[t.level]}  渠道：{rules.CHANNELS.get(t.channel, t.channel)}",
                 f"内容：{mask(t.description)}",
                 f"回电：{t.phone_masked or '未留'}  承办：{t.assignee_label or '—'}",
                 f"签收期限：{local(t.sign_due_at)}  办结期限：{local(t.resolve_due_at)}", "办理过程："]
        for e in await repo.events(session, t.id):
            flag = "" if e.public else "［内部］"
            lines.append(f"  {local(e.at)} {rules.ACTION_LABELS.get(e.kind, e.kind)}{flag} {e.actor_label}"
                         f"{'：' + e.text if e.text else ''}")
        return "\n".join(lines)

    return _run(work)


def _action(action: str, params_of):
    def command(args) -> int:
        async def work(session, services):
            from handlers.console.authz import load_scope
            from handlers.tickets import service
            from storage.models import Staff
            from storage.repositories import audit

            staff = (await session.execute(select(Staff).where(Staff.username == args.as_user))).scalar_one_or_none()
            if staff is None or not staff.active:
                raise CliError(f"没有在岗的工作人员账号 {args.as_user}")
            ticket = await _ticket(session, args.number)
            actor = service.staff_actor(staff, (await load_scope(session, staff)).community_ids)
            now = datetime.now(timezone.utc)
            try:
                said = await service.perform(session, services, ticket, action, actor, now,
                                             **await params_of(session, args))
            except service.TicketError as exc:
                raise CliError(f"未办理：{exc.message}") from None
            await audit.record(session, username=f"cli:{staff.username}", staff_id=staff.id,
                               action=f"ticket.{action}", target=ticket.number, via="cli",
                               community_id=ticket.community_id, at=now)
            return f"{ticket.number}：{said}"

        return _run(work)

    return command


async def _assign_params(session, args) -> dict:
    from storage.models import Staff

    if args.staff:
        staff = (await session.execute(select(Staff).where(Staff.username == args.staff))).scalar_one_or_none()
        if staff is None:
            raise CliError(f"没有工作人员账号 {args.staff}")
        return {"staff_id": staff.id}
    return {"partner": args.partner}


async def _resolve_params(session, args) -> dict:
    return {"text": args.text}


async def _escalate_params(session, args) -> dict:
    return {"reason": args.reason}


def cmd_stats(args) -> int:
    async def work(session, services):
        from handlers.tickets import stats
        from handlers.tickets.console_pages import bounds

        now = datetime.now(timezone.utc)
        until = args.until or now.date()
        since = args.since or until.replace(day=1)
        facts = await stats.load_facts(session, await _communities(session, args.scope), *bounds(since, until))
        rep = stats.report(facts, now)
        if args.csv:
            return csv_export.without_bom(stats.report_csv(rep)).rstrip("\r\n")
        return describe(rep["total"], since, until)

    return _run(work)


def describe(f, since: date, until: date) -> str:
    def pct(v):
        return "—" if v is None else f"{v:.1f}%"

    return "\n".join([
        f"{since} 至 {until}：受理 {f.received} 件（有效 {f.accepted}，不予受理 {f.rejected}，合并 {f.merged}，在办 {f.open}）",
        f"响应率 {pct(f.response_rate)}（{f.responded_in_time}/{f.response_due}）  解决率 {pct(f.resolution_rate)}"
        f"（{f.resolved}/{f.accepted}，按期 {pct(f.on_time_rate)}）  满意率 {pct(f.satisfaction_rate)}（{f.satisfied}/{f.rated}）",
        f"响应时长中位数 {f.median_response_hours if f.median_response_hours is not None else '—'} 小时  "
        f"办结时长中位数 {f.median_resolve_days if f.median_resolve_days is not None else '—'} 天",
        f"不出社区率 {pct(f.community_share)}  不出街道率 {pct(f.street_share)}  "
        f"（社区 {f.settled['community']}、街道 {f.settled['street']}、区县 {f.settled['district']} 件办结）"])


def add_subcommands(subparsers) -> None:
    ticket = subparsers.add_parser("ticket", help="投诉工单：列表、详情、交办、办结、升级、统计").add_subparsers(
        dest="ticket_command", metavar="子命令", required=True)
    p = ticket.add_parser("list", help="列出工单")
    p.add_argument("--scope", help="区县、街道或社区编码，例如 HX-YYL")
    p.add_argument("--status", default="open", help="open（在办，默认）、received、assigned、resolved、closed、escalated、rejected")
    p.add_argument("--level", choices=["community", "street", "district"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)
    p = ticket.add_parser("show", help="显示一张工单及办理过程")
    p.add_argument("number")
    p.set_defaults(func=cmd_show)
    for name, helptext, params_of, extra in (
            ("assign", "交办给本级工作人员或承办单位", _assign_params, "assign"),
            ("resolve", "办结", _resolve_params, "text"),
            ("escalate", "升级到上一级", _escalate_params, "reason")):
        p = ticket.add_parser(name, help=helptext)
        p.add_argument("number")
        p.add_argument("--as", dest="as_user", required=True, help="以哪个工作人员账号办理")
        if extra == "assign":
            who = p.add_mutually_exclusive_group(required=True)
            who.add_argument("--staff", help="工作人员账号")
            who.add_argument("--partner", help="property、developer 或 dept:部门名称")
        else:
            p.add_argument(f"--{extra}", required=True)
        p.set_defaults(func=_action(name, params_of))
    p = ticket.add_parser("stats", help="统计：响应率、解决率、满意率、不出社区率")
    p.add_argument("--scope", help="区县、街道或社区编码（默认全部）")
    p.add_argument("--since", type=date.fromisoformat, help="开始日期，默认本月 1 日")
    p.add_argument("--until", type=date.fromisoformat, help="结束日期（含），默认今天")
    p.add_argument("--csv", action="store_true", help="输出 CSV（含按类别、物业服务企业、社区的分组）")
    p.set_defaults(func=cmd_stats)


__all__ = ["add_subcommands"]
