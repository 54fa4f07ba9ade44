"""Production safety: a deployment that talks to real WeChat must not run on the secrets published with the code.

`Settings.production` is true unless WeChat's API is the sandbox on this machine (a loopback
LINLI_WECHAT_API_BASE) and LINLI_ENV is not `production`. There, `linli serve` and `linli worker` refuse to start
while any secret still has a published value (`PUBLISHED`: the defaults in bot/settings.py, the sandbox values in
docker-compose.yml and the documentation, the keys in the tests), with one Chinese message per problem and never
the value itself. Other features add their own secrets to `PUBLISHED`.
"""
from __future__ import annotations

import sys
from typing import Callable

from sqlalchemy.engine import make_url

from bot.settings import Settings

DEFAULTS = Settings()
# Values anyone can read in this repository: never acceptable against real WeChat.
PUBLISHED_AES_KEYS = frozenset({
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",  # tests/support.py
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg",  # tests/support.py (previous key)
})
PUBLISHED_DB_PASSWORDS = frozenset({"linli", "postgres", "password"})  # docker-compose.yml's default, the usual


def _db_password(settings: Settings) -> str | None:
    try:
        return make_url(settings.database_url).password
    except Exception:  # validated already; a URL SQLAlchemy cannot parse has no password to judge
        return None


# (variable, published value test, what to do) — one message per problem.
PUBLISHED: list[tuple[str, Callable[[Settings], bool], str]] = [
    ("WECHAT_TOKEN", lambda s: s.wechat_token == DEFAULTS.wechat_token,
     "仍是代码中公开的默认令牌；请在公众平台「服务器配置」中设置新的令牌（3–32 位随机字母数字）并同样设置 WECHAT_TOKEN"),
    ("WECHAT_APPID", lambda s: s.wechat_appid == DEFAULTS.wechat_appid,
     "仍是沙箱用的演示 AppID；请设置公众号自己的 AppID（公众平台「设置与开发 → 基本配置」）"),
    ("WECHAT_SECRET", lambda s: s.wechat_secret == DEFAULTS.wechat_secret,
     "仍是沙箱用的演示密钥；请设置公众号的 AppSecret（公众平台「设置与开发 → 基本配置」）"),
    ("WECHAT_AES_KEY", lambda s: s.wechat_aes_key in PUBLISHED_AES_KEYS,
     "是代码仓库中公开的测试密钥；请在公众平台重新生成 EncodingAESKey 并设置"),
    ("WECHAT_AES_KEY_PREVIOUS", lambda s: s.wechat_aes_key_previous in PUBLISHED_AES_KEYS,
     "是代码仓库中公开的测试密钥；请删除该设置或换成此前真正使用的密钥"),
    ("LINLI_DATABASE_URL", lambda s: _db_password(s) in PUBLISHED_DB_PASSWORDS,
     "中的数据库密码是公开的默认密码；请为数据库账号设置随机密码"),
]


def default_secret_problems(settings: Settings) -> list[str]:
    """One Chinese message per secret that still has a published value (the value is never included)."""
    return [f"{name} {advice}" for name, published, advice in PUBLISHED if published(settings)]


def production_reason(settings: Settings) -> str:
    if settings.env == "production":
        return "LINLI_ENV=production"
    return "LINLI_WECHAT_API_BASE 不是本机的微信接口沙箱"


def refuse_unsafe_start(settings: Settings, program: str) -> bool:
    """In production with any published secret: say why on stderr and return True (the caller exits 2)."""
    if not settings.production:
        return False
    problems = default_secret_problems(settings)
    if not problems:
        return False
    print(f"启动失败：生产环境（{production_reason(settings)}）下 {program} 不能使用公开的默认值，"
          f"共 {len(problems)} 处：", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print("只在本机试用时，请把 LINLI_WECHAT_API_BASE 指向本机沙箱（make run 的做法）。", file=sys.stderr)
    return True


DEMO_REFUSED = ("生产环境（{reason}）不能载入演示数据：演示账号的密码 linli-demo 是公开的。"
                "请用 linli org import 导入真实的组织结构，用 linli staff create 创建账号。")


def demo_refusal(settings: Settings) -> str | None:
    """Why demo data may not be loaded here, or None."""
    return DEMO_REFUSED.format(reason=production_reason(settings)) if settings.production else None
