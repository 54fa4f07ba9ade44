"""`python -m bot.sandbox [--host H] [--port P] [--template-quota N] [--callback-url URL]`, configured from the
same settings as the service (WECHAT_APPID / WECHAT_SECRET / WECHAT_TOKEN)."""
from __future__ import annotations

import argparse

from bot.sandbox.server import DEFAULT_PORT, run_sandbox
from bot.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="linli sandbox", description="本地微信接口沙箱")
    parser.add_argument("--host", default="127.0.0.1", help="监听地址")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="监听端口")
    parser.add_argument("--template-quota", type=int, default=100_000, help="模板消息每日额度")
    parser.add_argument("--callback-url", default=None, help="模板消息送达事件的推送地址（如 http://127.0.0.1:8080/wechat）")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    run_sandbox(args.host, args.port, appid=settings.wechat_appid, secret=settings.wechat_secret,
                template_quota=args.template_quota, callback_url=args.callback_url, token=settings.wechat_token)


if __name__ == "__main__":
    main()
