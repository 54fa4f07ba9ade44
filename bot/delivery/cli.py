"""`linli broadcast send|status|retry-failed|list` and `linli worker` (added to the main parser by
`add_subcommands`). Output is Chinese; `status` shows a live progress bar until the broadcast finishes."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from bot.cli import in_transaction
from bot.delivery.quota import BEIJING

CATEGORIES = {"notice": "公示", "meeting": "会议", "survey": "调查", "ticket": "投诉进度"}
STATUS_LABELS = {"scheduled": "待发送", "sending": "发送中", "paused": "已暂停", "done": "已完成",
                 "cancelled": "已取消"}






def _when(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)  # local (Beijing) time when no offset


def cmd_send(args: argparse.Namespace) -> int:
    from bot.delivery import outbox
    from bot.delivery.channels import Content

    async def work(session):
        scope = await outbox.scope_from_codes(session, args.level, args.codes or [], args.role)
        b = await outbox.create_broadcast(
            session, category=args.category, scope=scope, created_by=args.by, send_at=_when(args.at),
            content=Content(args.text, args.title, args.summary, args.link))
        return b.id, b.status

    try:
        broadcast_id, status = asyncio.run(in_transaction(work))
    except ValueError as exc:
        print(f"无法创建群发：{exc}", file=sys.stderr)
        return 1
    print(f"群发 {broadcast_id} 已创建（{STATUS_LABELS[status]}）。由 linli worker 发送；"
          f"查看进度：linli broadcast status {broadcast_id}")
    return 0


async def _report(broadcast_id: int):
    from datetime import timezone

    from bot.delivery.progress import report

    return await in_transaction(lambda s: report(s, broadcast_id, datetime.now(timezone.utc)))


def _details(rep: dict) -> str:
    from bot.delivery.progress import REASONS

    lines = [f"群发 {rep['id']}（{CATEGORIES.get(rep['category'], rep['category'])}）"
             f"{rep['title'] or rep['text'][:20]} — {STATUS_LABELS.get(rep['status'], rep['status'])}"]
    if rep["status"] == "paused":
        lines.append(f"  暂停原因：微信每日额度已用完，将于 {rep['paused_until']} 自动恢复")
    for status, label in (("failed", "失败"), ("skipped", "跳过")):
        for reason, n in sorted(rep["reasons"][status].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {label} {n}：{REASONS.get(reason, reason)}")
    if rep["resent_after_crash"]:
        lines.append(f"  进程中断时正在发送、已重发的 {rep['resent_after_crash']} 人可能收到两次")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    from bot.delivery.progress import bar

    async def watch() -> dict | None:
        live = not args.once and sys.stdout.isatty()
        while True:
            rep = await _report(args.id)
            if rep is None:
                return None
            if not live or rep["status"] not in ("sending", "scheduled"):
                if live:
                    print("\r" + bar(rep), flush=True)
                return rep
            print("\r" + bar(rep), end="", flush=True)
            await asyncio.sleep(args.interval)

    rep = asyncio.run(watch())
    if rep is None:
        print(f"没有编号为 {args.id} 的群发。", file=sys.stderr)
        return 1
    if args.once or not sys.stdout.isatty():
        print(bar(rep))
    print(_details(rep))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from datetime import timezone

    from bot.delivery.outbox import retry_failed

    count = asyncio.run(in_transaction(lambda s: retry_failed(s, args.id, datetime.now(timezone.utc))))
    print(f"已将群发 {args.id} 的 {count} 条失败投递重新排队。" if count else f"群发 {args.id} 没有失败的投递。")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from bot.delivery.progress import listing

    rows = asyncio.run(in_transaction(lambda s: listing(s, args.limit)))
    if not rows:
        print("还没有群发。")
    for b in rows:
        print(f"{b['id']:>6}  {STATUS_LABELS.get(b['status'], b['status']):<4}  "
              f"{CATEGORIES.get(b['category'], b['category']):<4}  {b['send_at'][:16]}  {b['title'] or b['text'][:20]}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.delivery.worker import main

    return main((["--until-idle"] if args.until_idle else []) + (["--json"] if args.json else []))


def add_subcommands(subparsers) -> None:
    b = subparsers.add_parser("broadcast", help="群发消息（公示、会议、调查、投诉进度）").add_subparsers(
        dest="broadcast_command", metavar="子命令", required=True)
    p = b.add_parser("send", help="创建群发（立即或定时），由 linli worker 发送")
    p.add_argument("--category", required=True, choices=list(CATEGORIES), help="类别")
    p.add_argument("--level", default="all", choices=["all", "district", "street", "community", "estate"],
                   help="范围层级（默认全部居民）")
    p.add_argument("--codes", nargs="*", help="辖区编码，如 HX-YYL-YJ")
    p.add_argument("--role", action="append", choices=["owner", "tenant"], help="只发给业主或租户（可重复）")
    p.add_argument("--text", required=True, help="正文")
    p.add_argument("--title", help="标题")
    p.add_argument("--summary", help="摘要（用于模板消息，20 字以内）")
    p.add_argument("--link", help="详情链接")
    p.add_argument("--at", help="定时发送，如 2026-12-01T09:00（北京时间）")
    p.add_argument("--by", default="cli", help="创建人")
    p.set_defaults(func=cmd_send)
    p = b.add_parser("status", help="查看群发进度（终端中实时刷新进度条）")
    p.add_argument("id", type=int)
    p.add_argument("--once", action="store_true", help="只显示一次")
    p.add_argument("--interval", type=float, default=1.0, help="刷新间隔秒数")
    p.set_defaults(func=cmd_status)
    p = b.add_parser("retry-failed", help="把失败的投递重新排队")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_retry)
    p = b.add_parser("list", help="列出最近的群发")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_list)
    p = subparsers.add_parser("worker", help="启动投递进程（发送群发、运行定时任务）")
    p.add_argument("--until-idle", action="store_true", help="没有正在发送的群发时退出")
    p.add_argument("--json", action="store_true", help="退出时以 JSON 输出统计")
    p.set_defaults(func=cmd_worker)
