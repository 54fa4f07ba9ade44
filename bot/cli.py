"""The `linli` command line: one program, one subcommand per operator task, `--help` on each.

The kernel's own commands live here; each feature adds its own through its `Feature.cli` hook. Every command is a
thin shell over the library and uses the plumbing below: `settings_or_exit()` (bad settings: every problem, exit
2), `in_transaction(work)` / `run_command(work)` (settings → database → one transaction → dispose), and
`CliError` for a refusal (its Chinese message is printed, exit 1; a `bot.errors.DomainError` is treated alike).
User-facing output is Chinese.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, TypeVar

from bot.errors import DomainError
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Services

SANDBOX_PORT = 8081
T = TypeVar("T")


class CliError(Exception):
    """A command that cannot do what was asked; its message (Chinese) is printed and the exit status is 1."""


def read_input_file(path: Path, limit: int, too_large: str) -> bytes:
    """The bytes of a file an operator named (an import), or a CliError saying why not: unreadable, or larger than
    `limit` (`too_large` is the Chinese advice after the limit, e.g. 「请分成几个文件导入」)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"无法读取 {path}：{exc.strerror}") from None
    if len(data) > limit:
        size = f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        raise CliError(f"文件过大（上限 {size}），{too_large}")
    return data


def settings_or_exit() -> Settings:
    """Settings from the environment; on bad values print every problem (Chinese) and exit with status 2."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


_settings = settings_or_exit


async def in_transaction(work: Callable[["AsyncSession"], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run `work(session)` in one transaction on the configured database, then release the engine."""
    from storage.db import Database

    db = Database((settings or settings_or_exit()).database_url)
    try:
        async with db.transaction() as session:
            return await work(session)
    finally:
        await db.dispose()


def run_command(work: Callable[["AsyncSession", "Services"], Awaitable[object]]) -> int:
    """`work(session, services)` in one transaction; prints what it returns (unless None); 0, or 1 after
    printing a `CliError`'s or `DomainError`'s message."""
    from bot.context import Services
    from storage.db import Database

    settings = settings_or_exit()
    services = Services(settings=settings, db=Database(settings.database_url))

    async def go():
        try:
            async with services.db.transaction() as session:
                return await work(session, services)
        finally:
            await services.db.dispose()

    try:
        result = asyncio.run(go())
    except (CliError, DomainError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if result is not None:
        print(result)
    return 0



def cmd_serve(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError
    from bot.workers import supervise, workers_from

    settings = _settings()
    try:
        count = workers_from(args.workers, settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    return supervise(settings.with_(host=args.host or settings.host, port=args.port or settings.port), count)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.server import run_sandbox

    settings = _settings()
    run_sandbox(
        args.host, args.port, appid=settings.wechat_appid, secret=settings.wechat_secret,
        callback_url=args.callback, token=settings.wechat_token, template_quota=args.template_quota,
        aes_key=settings.wechat_aes_key if settings.encrypt_mode == "safe" else None,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, args.revision)
    print(f"数据库已升级到最新结构（{_safe_url(settings.database_url)}）。")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_db_backup(args: argparse.Namespace) -> int:
    from storage.backup import BackupError, backup, is_postgresql, pg_instructions

    settings = _settings()
    if is_postgresql(settings.database_url):
        print(pg_instructions(settings.database_url, "backup"), file=sys.stderr)
        return 1
    try:
        done = backup(settings.database_url, Path(args.file), overwrite=args.force)
    except BackupError as exc:
        print(f"备份失败：{exc}", file=sys.stderr)
        return 1
    print(f"已备份到 {done.path}（{done.bytes / 1e6:.1f} MB，{done.seconds:.1f} 秒；{done.info.describe()}）。")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from storage.backup import BackupError, is_postgresql, pg_instructions, restore

    settings = _settings()
    if is_postgresql(settings.database_url):
        print(pg_instructions(settings.database_url, "restore"), file=sys.stderr)
        return 1
    try:
        done = restore(Path(args.file), settings.database_url)
    except BackupError as exc:
        print(f"恢复失败，数据库未改动：{exc}", file=sys.stderr)
        return 1
    kept = f"原数据库已另存为 {done.previous}。" if done.previous else ""
    print(f"已从 {args.file} 恢复到 {done.path}（{done.info.describe()}）。{kept}")
    return 0


def cmd_db_migrate_to(args: argparse.Namespace) -> int:
    from storage.migrate_to import MigrateError, migrate

    settings = _settings()
    print(f"从 {_safe_url(settings.database_url)} 复制到 {_safe_url(args.url)}")
    try:
        result = asyncio.run(migrate(settings.database_url, args.url, force=args.force, batch=args.batch,
                                     progress=lambda line: print(line, flush=True)))
    except MigrateError as exc:
        print(f"迁移失败：{exc}", file=sys.stderr)
        return 1
    width = max(len(t.name) for t in result.tables)
    print(f"{'表名':<{width - 2}}  {'SQLite':>10}  {'PostgreSQL':>10}")
    for t in result.tables:
        print(f"{t.name:<{width}}  {t.source:>10}  {t.target:>10}{'' if t.equal else '  不一致！'}")
    if result.skipped:
        print(f"未复制（本版本的表结构中没有）：{'、'.join(result.skipped)}")
    if not result.ok:
        print("迁移后行数不一致，请勿切换；保留 SQLite 数据库并联系开发人员。", file=sys.stderr)
        return 1
    print(f"迁移完成：{len(result.tables)} 张表共 {result.rows} 行，{result.seconds:.1f} 秒，"
          f"已校正 {len(result.sequences)} 个序列。把 LINLI_DATABASE_URL 改为目标地址后再启动服务。")
    return 0




def cmd_org_import(args: argparse.Namespace) -> int:
    from storage.orgimport import OrgImportError, apply_org_plan, parse_org_file

    settings = _settings()
    try:
        plan = parse_org_file(Path(args.file))
        summary = asyncio.run(in_transaction(lambda s: apply_org_plan(s, plan), settings))
    except OrgImportError as exc:
        print(f"导入失败，未写入任何数据。共 {len(exc.problems)} 处问题：", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except FileNotFoundError:
        print(f"找不到文件：{args.file}", file=sys.stderr)
        return 1
    print(f"导入完成。\n{summary.describe()}")
    return 0


def cmd_org_demo(args: argparse.Namespace) -> int:
    from bot.demo import load_demo_everything
    from bot.production import demo_refusal

    refused = demo_refusal(settings := _settings())
    if refused:
        print(refused, file=sys.stderr)
        return 1
    summary, history = asyncio.run(load_demo_everything(settings))
    print(f"演示数据已就绪。\n{summary.describe()}")
    print("已载入近一个月的演示记录（公示、会议纪要、调查、投诉、企业评分、群发、未解答的问题）。" if history
          else "近一个月的演示记录此前已载入，未重复写入。")
    print("演示账号的密码 linli-demo 是公开的：每个演示账号首次登录时须先修改密码。")
    return 0


def cmd_menu_push(args: argparse.Namespace) -> int:
    from bot.menu import load_menu, push_menu

    settings = _settings()
    menu = load_menu(Path(args.file) if args.file else None)

    async def push() -> None:
        from bot.outbound import WeChatClient
        from storage.db import Database

        db = Database(settings.database_url)
        client = WeChatClient.with_database_tokens(settings, db.sessions)
        try:
            await push_menu(client, menu)
        finally:
            await client.close()
            await db.dispose()

    return _report_wechat(push, "自定义菜单已更新。")


def cmd_qrcode(args: argparse.Namespace) -> int:
    from storage.repositories.org import community_by_code

    settings = _settings()

    async def create() -> None:
        from bot.outbound import WeChatClient
        from storage.db import Database

        db = Database(settings.database_url)
        client = WeChatClient.with_database_tokens(settings, db.sessions)
        try:
            async with db.transaction() as session:
                community = await community_by_code(session, args.community)
            if community is None:
                raise LookupError(args.community)
            result = await client.create_qrcode(community.code)
            print(f"{community.name} 的永久二维码（场景值 {community.code}）：")
            print(f"  图片地址：{client.qrcode_url(result['ticket'])}")
            print(f"  二维码内容：{result.get('url', '')}")
        finally:
            await client.close()
            await db.dispose()

    try:
        return _report_wechat(create, "居民扫码关注后将自动绑定到该社区。")
    except LookupError:
        print(f"没有编码为 {args.community} 的社区。可用 linli org import 导入社区。", file=sys.stderr)
        return 1


def _report_wechat(work, done: str) -> int:
    from bot.outbound import WeChatError, WeChatUnavailable

    try:
        asyncio.run(work())
    except WeChatError as exc:
        print(f"微信接口返回错误：{exc}", file=sys.stderr)
        return 1
    except WeChatUnavailable as exc:
        print(f"无法连接微信接口：{exc}", file=sys.stderr)
        return 1
    print(done)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    settings = _settings()
    return asyncio.run(run_chat(settings, args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linli", description="邻里：社区物业管理公众号服务")
    sub = parser.add_subparsers(dest="command", metavar="命令", required=True)

    p = sub.add_parser("serve", help="启动公众号服务（接收微信消息）")
    p.add_argument("--host", help="监听地址（默认取 LINLI_HOST）")
    p.add_argument("--port", type=int, help="监听端口（默认取 LINLI_PORT）")
    p.add_argument("--workers", metavar="N", help="同一端口上的工作进程数（默认取 LINLI_WORKERS，未设置为 1）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sandbox", help="启动本地微信接口沙箱（无需真实公众号）")
    p.add_argument("--host", default="127.0.0.1", help="监听地址")
    p.add_argument("--port", type=int, default=SANDBOX_PORT, help=f"监听端口（默认 {SANDBOX_PORT}）")
    p.add_argument("--callback", help="模板消息送达事件推送到的地址，例如 http://127.0.0.1:8080/wechat")
    p.add_argument("--template-quota", type=int, default=100_000, help="模板消息每日额度")
    p.set_defaults(func=cmd_sandbox)

    db = sub.add_parser("db", help="数据库维护").add_subparsers(dest="db_command", metavar="子命令", required=True)
    p = db.add_parser("upgrade", help="应用数据库迁移到最新结构")
    p.add_argument("--revision", default="heads", help="目标版本（默认 heads：全部最新）")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("backup", help="在线备份 SQLite 数据库到文件（PostgreSQL 请用 pg_dump）")
    p.add_argument("file", help="备份文件路径")
    p.add_argument("--force", action="store_true", help="覆盖已存在的备份文件")
    p.set_defaults(func=cmd_db_backup)
    p = db.add_parser("restore", help="用备份文件替换 SQLite 数据库（须先停止服务；原库另存一份）")
    p.add_argument("file", help="linli db backup 生成的备份文件")
    p.set_defaults(func=cmd_db_restore)
    p = db.add_parser("migrate-to", help="把当前 SQLite 数据库复制到 PostgreSQL（须先停止服务）")
    p.add_argument("url", help="目标地址，例如 postgresql+asyncpg://linli:密码@127.0.0.1/linli")
    p.add_argument("--force", action="store_true", help="目标库已有数据时先清空再复制")
    p.add_argument("--batch", type=int, default=2000, help="每批复制的行数（默认 2000）")
    p.set_defaults(func=cmd_db_migrate_to)

    org = sub.add_parser("org", help="区县、街道、社区、小区").add_subparsers(dest="org_command", metavar="子命令", required=True)
    p = org.add_parser("import", help="从 CSV 或 YAML 文件导入组织结构（格式见 docs/org-import.md）")
    p.add_argument("file", help="CSV 或 YAML 文件")
    p.set_defaults(func=cmd_org_import)
    p = org.add_parser("demo", help="载入演示数据（一个区、两个街道、四个社区、工作人员账号及近一个月的演示记录）")
    p.set_defaults(func=cmd_org_demo)

    menu = sub.add_parser("menu", help="公众号自定义菜单").add_subparsers(dest="menu_command", metavar="子命令", required=True)
    p = menu.add_parser("push", help="按菜单文件创建公众号菜单")
    p.add_argument("--file", help="菜单文件（默认使用内置 bot/menu.yaml）")
    p.set_defaults(func=cmd_menu_push)

    p = sub.add_parser("qrcode", help="获取社区的永久二维码（用于张贴的关注海报）")
    p.add_argument("community", help="社区编码，例如 HX-YYL-YJ")
    p.set_defaults(func=cmd_qrcode)

    from bot.chat import HELP as CHAT_HELP

    p = sub.add_parser("chat", help="在终端里扮演居民与机器人对话", description="在终端里扮演居民与机器人对话。",
                       epilog=CHAT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="linli 的地址（默认 http://LINLI_HOST:LINLI_PORT/wechat）")
    p.add_argument("--openid", default="o_local_resident_0001", help="扮演的居民 openid")
    p.add_argument("--community", help="先以该社区编码扫码关注（模拟扫社区海报二维码）")
    p.add_argument("--sandbox", default=f"http://127.0.0.1:{SANDBOX_PORT}", help="沙箱地址，用于显示推送给居民的消息")
    p.add_argument("--aes", action="store_true", help="加密发送（需设置 WECHAT_AES_KEY；安全模式下总是加密）")
    p.set_defaults(func=cmd_chat)

    from bot.delivery.cli import add_subcommands as delivery_commands
    from bot.features import installed_features

    delivery_commands(sub)
    for feature in installed_features():
        if feature.cli is not None:
            feature.cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, DomainError) as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
