"""`linli serve`: run the webhook server and tell the operator where to look."""
from __future__ import annotations

import gc
import logging
import sys
from typing import TYPE_CHECKING, Sequence

from aiohttp import web

from bot import logs
from bot.settings import Settings

if TYPE_CHECKING:
    from storage.repositories.org import DemoLogin


def banner(settings: Settings, demo_logins: Sequence["DemoLogin"] = ()) -> str:
    """What the operator sees at start. Never a secret (token, AppSecret, keys, passwords in addresses): the
    demo accounts' password is the one the demo file publishes, and is shown only outside production."""
    mode = {"safe": "安全模式（AES）", "compat": "兼容模式（加密和明文都接受）", "plain": "明文模式"}[settings.encrypt_mode]
    sandbox = "（生产环境）" if settings.production else "（本地沙箱）"
    lines = [
        "邻里服务已启动。",
        f"  工作人员控制台：{settings.base_url}/console/",
        f"  微信消息地址：{settings.base_url}/wechat （{mode}）",
        f"  健康检查：    {settings.base_url}/healthz   就绪检查：{settings.base_url}/readyz",
        f"  微信接口：    {_without_credentials(settings.wechat_api_base)}{sandbox}",
    ]
    if demo_logins and not settings.production:
        lines.append("  演示账号（密码是公开的演示密码，首次登录须修改）：")
        lines += [f"    {d.username:<10} 密码 {d.password}  {d.name}（{d.level}）" for d in demo_logins]
    lines += ["  和机器人聊天：另开一个终端运行 `.venv/bin/linli chat --community HX-YYL-YJ`",
              "  按 Ctrl+C 停止。"]
    return "\n".join(lines)


async def startup_demo_logins(app: "web.Application", settings: Settings) -> list["DemoLogin"]:
    """The demo accounts to show in the banner: none in production, none when the demo was not loaded or
    its passwords were changed; a database that cannot be read yet only costs the list."""
    if settings.production:
        return []
    from bot.app import SERVICES
    from storage.repositories.org import demo_logins

    try:
        async with app[SERVICES].db.transaction() as session:
            return await demo_logins(session)
    except Exception:  # the banner must not stop the start; /readyz reports the database
        logging.getLogger("linli.serve").warning("could not read the demo accounts for the banner")
        return []


def _without_credentials(url: str) -> str:
    """`url` without a user:password part (an API address through an authenticating proxy)."""
    import re

    return re.sub(r"(://)[^/@]*@", r"\1", url)


def app_or_report(settings: Settings) -> "web.Application | None":
    """The configured app, or None after saying on stderr why it cannot start (logging configured first)."""
    from bot.app import create_app

    logs.configure(settings.log_level)
    try:
        app = create_app(settings)
    except Exception as exc:  # a broken knowledge base or bad settings: say so and stop
        print(f"启动失败：{exc}", file=sys.stderr)
        return None
    app.on_startup.append(freeze_startup_objects)
    return app


async def freeze_startup_objects(_app: "web.Application") -> None:
    """Move everything alive at start-up (modules, the knowledge base's index, pypinyin's 200,000 phrase lists,
    SQLAlchemy's mappers) out of the garbage collector's sight. They live as long as the process, yet every
    full collection walked them all: ~130 ms with the event loop stopped, every few seconds under load, which
    was most of the console's and the webhook's p99. (CPython's `gc.freeze`, meant for exactly this.)"""
    gc.collect()
    gc.freeze()


def serve(settings: Settings) -> int:
    app = app_or_report(settings)
    if app is None:
        return 2

    text: list[str] = []

    async def compose(started: web.Application) -> None:
        text.append(banner(settings, await startup_demo_logins(started, settings)))

    def announce(_aiohttp_line: str) -> None:
        # run_app calls this once the socket is listening (startup runs before), so "已启动" is true when printed
        print(*text, flush=True)

    app.on_startup.append(compose)
    web.run_app(app, host=settings.host, port=settings.port, print=announce,
                access_log_class=logs.QuietAccessLogger)
    return 0
