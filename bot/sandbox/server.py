"""`linli sandbox`: a local aiohttp server standing in for WeChat's API (`/cgi-bin/...`) plus a control API
(`/sandbox/...`), for tests and local development. `create_sandbox_app` builds it; `run_sandbox` serves it.
"""
from __future__ import annotations

import random
import time
from typing import Callable

from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from bot.sandbox import api, control
from bot.sandbox.callback import CallbackPusher
from bot.sandbox.faults import FaultBook
from bot.sandbox.hub import SANDBOX, Sandbox
from bot.sandbox.state import SandboxState

DEFAULT_PORT = 8081


def create_sandbox_app(
    appid: str,
    secret: str,
    *,
    template_quota: int = 100_000,
    callback_url: str | None = None,
    token: str | None = None,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    token_ttl: int = 7200,
    original_id: str = "gh_5a1d0c0ffee0",
    callback_delay: float = 0.0,
    aes_key: str | None = None,
) -> web.Application:
    """The sandbox app. `callback_url` + `token` turn on TEMPLATESENDJOBFINISH pushes (encrypted, as in WeChat's
    safe mode, when `aes_key` is given); `clock` and `rng` are injectable for tests."""
    state = SandboxState(appid, secret, clock=clock, template_quota=template_quota, token_ttl=token_ttl)
    pusher = CallbackPusher(callback_url, token, original_id, delay=callback_delay,
                            crypto=WeChatCrypto(token, aes_key, appid) if aes_key and token else None)
    app = web.Application()
    app[SANDBOX] = Sandbox(state, FaultBook(rng), pusher)
    api.add_routes(app)
    control.add_routes(app)

    async def _close(app: web.Application) -> None:
        await app[SANDBOX].close()

    app.on_cleanup.append(_close)
    return app


def run_sandbox(host: str = "127.0.0.1", port: int = DEFAULT_PORT, **kw) -> None:
    """Serve the sandbox until interrupted. `kw` goes to create_sandbox_app (appid and secret are required)."""
    app = create_sandbox_app(**kw)
    print(f"微信接口沙箱已启动：http://{host}:{port}（AppID {kw['appid']}；控制接口 /sandbox/；按 Ctrl+C 退出）",
          flush=True)
    web.run_app(app, host=host, port=port, print=None)
