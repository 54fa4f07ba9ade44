"""Configuration: read from environment variables (and an optional `.env`), validated once at start.

Every bad value is reported together, each with the variable's name and what is expected, so an operator
fixes a deployment in one pass.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/linli.db"
OFFICIAL_API_BASE = "https://api.weixin.qq.com"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """One or more configuration values are invalid; `problems` lists each in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("配置有误：\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    wechat_token: str = "linli-sandbox-token"
    wechat_appid: str = "wx5a1d0c0ffee0b0b0"
    wechat_secret: str = "linli-sandbox-secret"
    wechat_aes_key: str | None = None
    wechat_aes_key_previous: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    wechat_api_base: str = OFFICIAL_API_BASE
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    log_level: str = "INFO"
    reply_budget: float = 4.0
    timestamp_window: int = 300
    max_body_bytes: int = 64 * 1024
    conversation_ttl: int = 30 * 60
    http_timeout: float = 5.0
    env: str = ""  # LINLI_ENV: "production" forces the production checks; see `production`
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    console_trust_proxy: bool = False  # deprecated LINLI_CONSOLE_TRUST_PROXY: trust loopback proxies only
    api_token_days: int = 90
    kb_root: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def safe_mode(self) -> bool:
        return bool(self.wechat_aes_key)

    @property
    def production(self) -> bool:
        """True unless WeChat's API is a sandbox on this machine (a loopback address) and LINLI_ENV is not
        `production`: then no published default secret may be used and demo accounts may not log in."""
        return self.env == "production" or not is_loopback_url(self.wechat_api_base)

    @property
    def proxy_networks(self) -> tuple:
        """The proxies whose X-Forwarded-For is believed: LINLI_TRUSTED_PROXIES, else loopback when the
        deprecated LINLI_CONSOLE_TRUST_PROXY is on, else none."""
        if self.trusted_proxies:
            return self.trusted_proxies
        return LOOPBACK_NETWORKS if self.console_trust_proxy else ()

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> "Settings":
        values = dict(_read_dotenv(dotenv)) if dotenv else {}
        values.update(os.environ if env is None else env)
        return parse(values)


_ENV = {
    "WECHAT_TOKEN": "wechat_token",
    "WECHAT_APPID": "wechat_appid",
    "WECHAT_SECRET": "wechat_secret",
    "WECHAT_AES_KEY": "wechat_aes_key",
    "WECHAT_AES_KEY_PREVIOUS": "wechat_aes_key_previous",
    "LINLI_DATABASE_URL": "database_url",
    "LINLI_WECHAT_API_BASE": "wechat_api_base",
    "LINLI_HOST": "host",
    "LINLI_PORT": "port",
    "LINLI_PUBLIC_URL": "public_url",
    "LINLI_LOG_LEVEL": "log_level",
    "LINLI_REPLY_BUDGET": "reply_budget",
    "LINLI_TIMESTAMP_WINDOW": "timestamp_window",
    "LINLI_MAX_BODY_BYTES": "max_body_bytes",
    "LINLI_CONVERSATION_TTL": "conversation_ttl",
    "LINLI_HTTP_TIMEOUT": "http_timeout",
    "LINLI_ENV": "env",
    "LINLI_TRUSTED_PROXIES": "trusted_proxies",
    "LINLI_CONSOLE_TRUST_PROXY": "console_trust_proxy",
    "LINLI_API_TOKEN_DAYS": "api_token_days",
    "LINLI_KB_ROOT": "kb_root",
}
ENV_NAMES = tuple(_ENV)


def parse(values: Mapping[str, str]) -> Settings:
    """Build Settings from raw strings; raise SettingsError naming every bad variable."""
    problems: list[str] = []
    kwargs: dict[str, object] = {}
    for env_name, attr in _ENV.items():
        raw = values.get(env_name)
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip()
        try:
            kwargs[attr] = _convert(attr, raw)
        except ValueError as exc:
            problems.append(f"{env_name}={_redact(env_name, raw)}：{exc}")
    kwargs["extra"] = {k: v for k, v in values.items() if k.startswith("LINLI_") and k not in _ENV}
    if problems:
        raise SettingsError(problems)
    return Settings(**kwargs)  # type: ignore[arg-type]


def _redact(name: str, raw: str) -> str:
    """A bad value as it may be shown: secrets never (a typo'd secret is still mostly the secret), and a
    database address without its password."""
    if re.search(r"(TOKEN|SECRET|KEY|PASSWORD)(_PREVIOUS)?$", name):
        return "***"
    if name == "LINLI_DATABASE_URL":
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", raw)
    return raw


LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def is_loopback_url(url: str) -> bool:
    """True when `url` names this machine (localhost, 127.0.0.0/8, ::1): the local WeChat sandbox."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _convert(attr: str, raw: str) -> object:
    checker = _CHECKS.get(attr)
    return checker(raw) if checker else raw


def _token(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_\-]{3,32}", raw):
        raise ValueError("令牌须为 3–32 位英文字母、数字、下划线或连字符（与公众平台“服务器配置”中的 Token 一致）")
    return raw


def _appid(raw: str) -> str:
    if not re.fullmatch(r"wx[0-9a-zA-Z]{16}", raw):
        raise ValueError("AppID 应为 wx 开头的 18 位字符")
    return raw


def _aes_key(raw: str) -> str:
    if len(raw) != 43:
        raise ValueError("EncodingAESKey 须为 43 位字符")
    try:
        key = base64.b64decode(raw + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("EncodingAESKey 只能包含字母和数字（Base64 字符）") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey 解码后应为 32 字节")
    return raw


def _db_url(raw: str) -> str:
    if not (raw.startswith("sqlite+aiosqlite://") or raw.startswith("postgresql+asyncpg://")):
        raise ValueError("仅支持 sqlite+aiosqlite:///路径 或 postgresql+asyncpg://用户@主机/库")
    return raw


def _http_url(raw: str) -> str:
    if not re.match(r"https?://[^/\s]+", raw):
        raise ValueError("应为 http:// 或 https:// 开头的地址")
    return raw.rstrip("/")


def _port(raw: str) -> int:
    port = _int(raw)
    if not 1 <= port <= 65535:
        raise ValueError("端口须在 1–65535 之间")
    return port


def _int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("应为整数") from None
    if value <= 0:
        raise ValueError("应为正整数")
    return value


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("应为秒数，例如 4 或 4.5") from None
    if not 0 < value <= 60:
        raise ValueError("应在 0–60 秒之间")
    return value


def _env(raw: str) -> str:
    if raw.lower() not in ("production", "development"):
        raise ValueError("应为 production 或 development（production 时即使接口地址是本机沙箱也按生产环境检查）")
    return raw.lower()


def _networks(raw: str) -> tuple:
    networks = []
    for part in re.split(r"[\s,]+", raw):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"“{part}”不是 IP 地址或网段；应为逗号分隔的地址或 CIDR 网段，"
                             "例如 127.0.0.1,172.31.250.10/32") from None
    return tuple(networks)


def _flag(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("应为 1 或 0")


def _token_days(raw: str) -> int:
    days = _int(raw)
    if days > 3650:
        raise ValueError("API 令牌有效期应在 1–3650 天之间")
    return days


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError("应为 " + " / ".join(LOG_LEVELS) + " 之一")
    return raw.upper()


_CHECKS = {
    "wechat_token": _token,
    "wechat_appid": _appid,
    "wechat_aes_key": _aes_key,
    "wechat_aes_key_previous": _aes_key,
    "database_url": _db_url,
    "wechat_api_base": _http_url,
    "public_url": _http_url,
    "port": _port,
    "log_level": _log_level,
    "reply_budget": _seconds,
    "http_timeout": _seconds,
    "timestamp_window": _int,
    "max_body_bytes": _int,
    "conversation_ttl": _int,
    "env": _env,
    "trusted_proxies": _networks,
    "console_trust_proxy": _flag,
    "api_token_days": _token_days,
}


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}
