"""`linli serve`: run the webhook server and tell the operator where to look."""
from __future__ import annotations

import gc
import sys

from aiohttp import web

from bot import logs
from bot.settings import Settings


def banner(settings: Settings) -> str:
    """What the operator sees at start. Never a secret (token, AppSecret, keys, passwords in addresses)."""
    mode = {"safe": "安全模式（AES）", "compat": "兼容模式（加密和明文都接受）", "plain": "明文模式"}[settings.encrypt_mode]
    sandbox = "（生产环境）" if settings.production else "（本地沙箱）"
    return "\n".join([
        "邻里服务已启动。",
        f"  微信消息地址：{settings.base_url}/wechat （{mode}）",
        f"  健康检查：    {settings.base_url}/healthz   就绪检查：{settings.base_url}/readyz",
        f"  微信接口：    {_without_credentials(settings.wechat_api_base)}{sandbox}",
        "  和机器人聊天：另开一个终端运行 `.venv/bin/linli chat --community HX-YYL-YJ`",
        "  按 Ctrl+C 停止。",
    ])


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

    async def announce(_app: web.Application) -> None:
        print(banner(settings), flush=True)

    app.on_startup.append(announce)
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log_class=logs.QuietAccessLogger)
    return 0
