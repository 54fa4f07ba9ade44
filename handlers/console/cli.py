"""`linli staff create|password|token`: the first admin account (and any other) from the command line, an
admin's password reset, and API tokens.

    linli staff create --username admin --name 系统管理员 --level admin          # prompts for the password
    echo "$PW" | linli staff create --username hexi --name 河西区 --level district --node HX --password-stdin
    linli staff password USERNAME [--password-stdin]                           # reset: sessions end, tokens revoked
    linli staff token USERNAME [--label 用途]                                   # prints a new token once

Each action is written to the audit log as done by `cli:<operating-system user>`, via `cli`.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.cli import in_transaction as _in_transaction
from bot.cli import settings_or_exit as _settings
from storage.models import StaffLevel


def _operator() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    from storage.password_policy import MIN_LENGTH

    first = getpass.getpass(f"密码（至少 {MIN_LENGTH} 位，不能是常见密码）：")
    if getpass.getpass("再次输入密码：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


def cmd_create(args: argparse.Namespace) -> int:
    from handlers.console.staff_service import StaffError, create_account
    from storage.repositories import audit

    try:
        password = _read_password(args)
    except (ValueError, EOFError) as exc:
        print(f"未创建：{exc}", file=sys.stderr)
        return 1

    async def work(session):
        staff = await create_account(session, username=args.username, display_name=args.name,
                                     level=args.level or "community", node=args.node, password=password,
                                     partner=args.partner, committee=args.committee)
        await audit.record(session, username=_operator(), action="staff.create", via="cli",
                           target=f"{staff.username}（{staff.level.label}）", community_id=staff.community_id)
        return staff

    try:
        staff = asyncio.run(_in_transaction(work))
    except StaffError as exc:
        print("未创建，请修改：", file=sys.stderr)
        for message in exc.errors.values():
            print(f"  - {message}", file=sys.stderr)
        return 1
    kind = (f"承办单位 {staff.partner}" if staff.partner else f"业主委员会（小区 {args.committee}）"
            if staff.committee_estate_id else staff.level.label)
    print(f"已创建账号 {staff.username}（{kind}）。登录地址：{_settings().base_url}/console/login")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from handlers.console.staff_service import StaffError, new_token
    from storage.repositories import audit
    from storage.repositories import staff as staff_repo

    async def work(session):
        staff = await staff_repo.staff_by_username(session, args.username)
        if staff is None:
            raise LookupError(args.username)
        from storage.models import utcnow

        token, raw = await new_token(session, staff, args.label, utcnow(), _settings().api_token_days)
        await audit.record(session, username=_operator(), action="token.create", via="cli",
                           target=f"{staff.username}：{args.label}")
        return raw, token.expires_at

    try:
        raw, expires_at = asyncio.run(_in_transaction(work))
    except LookupError:
        print(f"没有用户名为 {args.username} 的账号。", file=sys.stderr)
        return 1
    except StaffError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    from bot.localtime import local_text

    print(raw)
    print(f"请立即保存该令牌：它只显示这一次（数据库只保存其摘要），有效期至 {local_text(expires_at)}。"
          "调用 API 时使用请求头 Authorization: Bearer <令牌>。", file=sys.stderr)
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    """An admin's reset from the command line (e.g. a demo account still on its published password)."""
    from handlers.console.staff_service import StaffError, reset_password
    from storage.models import utcnow
    from storage.repositories import audit
    from storage.repositories import staff as staff_repo

    try:
        password = _read_password(args)
    except (ValueError, EOFError) as exc:
        print(f"未修改：{exc}", file=sys.stderr)
        return 1

    async def work(session):
        staff = await staff_repo.staff_by_username(session, args.username)
        if staff is None:
            raise LookupError(args.username)
        await reset_password(session, staff, password, utcnow())
        await audit.record(session, username=_operator(), action="staff.password", via="cli", target=staff.username,
                           community_id=staff.community_id)

    try:
        asyncio.run(_in_transaction(work))
    except LookupError:
        print(f"没有用户名为 {args.username} 的账号。", file=sys.stderr)
        return 1
    except StaffError as exc:
        print(f"未修改：{exc}", file=sys.stderr)
        return 1
    print(f"已重置 {args.username} 的密码：其已登录的会话均已退出，API 令牌均已吊销。")
    return 0


def add_subcommands(subparsers) -> None:
    """Add `staff create` and `staff token` to an argparse subparsers object."""
    staff = subparsers.add_parser("staff", help="工作人员账号：创建账号、重置密码、生成 API 令牌",
                                  description="工作人员账号：创建账号、重置密码、生成 API 令牌")
    sub = staff.add_subparsers(dest="staff_command", metavar="{create,password,token}")
    sub.required = True
    create = sub.add_parser("create", help="创建账号（例如第一个管理员）")
    create.add_argument("--username", required=True, help="登录用户名（字母、数字、. _ -）")
    create.add_argument("--name", required=True, help="姓名或单位名称")
    create.add_argument("--level", choices=[lv.value for lv in StaffLevel],
                        help="级别：admin 管理员 / district 区县 / street 街道 / community 社区")
    create.add_argument("--node", help="所属区县/街道/社区的编码（管理员不需要），例如 HX-YYL-YJ")
    create.add_argument("--partner", metavar="CODE",
                        help="承办单位账号：物业服务企业或开发建设单位的编码，或 dept:部门名称（不需要 --level/--node）")
    create.add_argument("--committee", metavar="ESTATE_CODE",
                        help="业主委员会账号：所在小区的编码；只能起草该小区的表决事项、查看其参与情况和结果（不需要 --level/--node）")
    create.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行），不交互提示")
    create.set_defaults(func=cmd_create)
    password = sub.add_parser("password", help="重置账号的密码（其会话全部退出、API 令牌全部吊销）")
    password.add_argument("username", help="账号用户名")
    password.add_argument("--password-stdin", action="store_true", help="从标准输入读取新密码（一行），不交互提示")
    password.set_defaults(func=cmd_password)
    token = sub.add_parser("token", help="为账号生成新的 API 令牌（只显示一次，LINLI_API_TOKEN_DAYS 天后过期）")
    token.add_argument("username", help="账号用户名")
    token.add_argument("--label", default="命令行创建", help="令牌用途说明")
    token.set_defaults(func=cmd_token)
