"""`linli notice list|show|publish ID` and `linli meeting list|missing --month YYYY-MM` (added to bot/cli.py through
`add_subcommands`). Output is Chinese. `notice publish` acts as the operator (like `linli broadcast send`): it
approves a draft (or publishes a scheduled notice) at once, with the rules' level checks of an administrator.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime, timezone

from bot.cli import in_transaction
from bot.cli import settings_or_exit as _settings
from bot.localtime import local_text

_local = local_text


def cmd_list(args: argparse.Namespace) -> int:
    from handlers.notices import rules
    from storage.repositories import notices as repo

    async def work(session):
        return await repo.staff_list(session, None, state=args.state, limit=args.limit)

    rows, total = asyncio.run(in_transaction(work))
    if not rows:
        print("还没有公示。")
    for notice, version in rows:
        print(f"{notice.id:>6}  {rules.STATES.get(notice.state, notice.state):<3}  {rules.SHORT[notice.category]:<5}  "
              f"{_local(notice.published_at or notice.publish_at)}  {version.title}")
    if total > len(rows):
        print(f"（共 {total} 条，只显示最新 {len(rows)} 条）")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from handlers.notices import rules, service
    from storage.repositories import notices as repo

    settings = _settings()

    async def work(session):
        notice = await repo.get(session, args.id)
        if notice is None:
            return None
        names = await repo.scope_names(session, notice.scope_level, list(notice.scope_ids))
        return notice, names

    found = asyncio.run(in_transaction(work))
    if found is None:
        print(f"没有编号为 {args.id} 的公示。", file=sys.stderr)
        return 1
    notice, names = found
    version = service.current(notice)
    print(f"【{rules.CATEGORIES[notice.category]}】{version.title}")
    print(f"状态：{rules.STATES.get(notice.state, notice.state)}    范围：{rules.SCOPE_LABELS[notice.scope_level]} "
          f"{'、'.join(names)}")
    print(f"发布单位：{notice.publisher}    起草：{notice.author}    审核：{notice.approver or '—'}")
    print(f"发布时间：{_local(notice.published_at or notice.publish_at)}    链接：{service.link(settings.base_url, notice)}")
    print(f"摘要：{version.summary}")
    for v in notice.versions:
        note = f"  更正说明：{v.note}" if v.note else ""
        print(f"  第{v.version}版  {_local(v.published_at)}  群发 {v.broadcast_id or '—'}{note}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from handlers.notices import service
    from storage.repositories import notices as repo

    settings = _settings()
    now = datetime.now(timezone.utc)

    async def work(session):
        notice = await repo.get(session, args.id)
        if notice is None:
            raise service.NotFound(f"没有编号为 {args.id} 的公示")
        actor = service.system_actor(f"cli:{getpass.getuser()}")
        if notice.state == "scheduled":
            notice.publish_at = now
            await session.flush()
            await service.publish_due(session, now, settings.base_url)
        else:
            await service.approve(session, actor, notice, now=now, base_url=settings.base_url)
        return notice.state, service.link(settings.base_url, notice)

    try:
        state, link = asyncio.run(in_transaction(work))
    except service.NoticeError as exc:
        print(f"未能发布：{exc}", file=sys.stderr)
        return 1
    print(f"已发布，推送将由 linli worker 发出。链接：{link}" if state == "published" else f"当前状态：{state}")
    return 0


def cmd_meeting_missing(args: argparse.Namespace) -> int:
    from handlers.notices.meetings import local_today, month_range
    from storage.repositories import meetings as repo

    today = local_today(datetime.now(timezone.utc))
    month = args.month or f"{today.year}-{today.month:02d}"
    try:
        start, end = month_range(month)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows = asyncio.run(in_transaction(lambda s: repo.missing(s, start, end)))
    if not rows:
        print(f"{month} 各社区均已记录联席会议。")
        return 0
    print(f"{month} 尚未记录联席会议的社区（{len(rows)} 个）：")
    for community, street in rows:
        print(f"  {community.code:<16} {street} {community.name}")
    return 0


def cmd_meeting_list(args: argparse.Namespace) -> int:
    from handlers.notices.meetings import STATES, month_range
    from storage.repositories import meetings as repo

    try:
        start, end = month_range(args.month) if args.month else (None, None)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows, _ = asyncio.run(in_transaction(lambda s: repo.list_meetings(s, None, start=start, end=end,
                                                                          limit=args.limit)))
    if not rows:
        print("没有联席会议记录。")
    for meeting, community in rows:
        print(f"{meeting.id:>6}  {meeting.held_on.isoformat()}  {community:<8}  主持：{meeting.chair:<6}  "
              f"{STATES.get(meeting.state, meeting.state)}")
    return 0


def add_subcommands(subparsers) -> None:
    n = subparsers.add_parser("notice", help="公示：列出、查看、发布").add_subparsers(
        dest="notice_command", metavar="子命令", required=True)
    p = n.add_parser("list", help="最新公示")
    p.add_argument("--state", choices=["draft", "scheduled", "published", "corrected", "withdrawn"], help="按状态")
    p.add_argument("--limit", type=int, default=30, help="条数（默认 30）")
    p.set_defaults(func=cmd_list)
    p = n.add_parser("show", help="一条公示的详情和版本")
    p.add_argument("id", type=int, help="公示编号")
    p.set_defaults(func=cmd_show)
    p = n.add_parser("publish", help="立即发布一条草稿或定时公示（以管理员身份审核）")
    p.add_argument("id", type=int, help="公示编号")
    p.set_defaults(func=cmd_publish)
    m = subparsers.add_parser("meeting", help="联席会议：列出、查找本月未开会的社区").add_subparsers(
        dest="meeting_command", metavar="子命令", required=True)
    p = m.add_parser("missing", help="某月尚未记录联席会议的社区")
    p.add_argument("--month", help="月份，如 2026-11（默认本月）")
    p.set_defaults(func=cmd_meeting_missing)
    p = m.add_parser("list", help="联席会议记录")
    p.add_argument("--month", help="月份，如 2026-11")
    p.add_argument("--limit", type=int, default=50, help="条数（默认 50）")
    p.set_defaults(func=cmd_meeting_list)
