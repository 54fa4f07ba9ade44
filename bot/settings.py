"""Configuration: read from environment variables (and an optional `.env`), validated once at start.

Every bad value is reported together, each with the variable's name and what is expected, so an operator
fixes a deployment in one pass.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
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
    household_key: str | None = None
    open311_key: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def household_secret(self) -> bytes:
        """The key of the households' one-voice hash (`LINLI_HOUSEHOLD_KEY`). Unset: derived from the AppSecret,
        which suits the sandbox; a deployment sets its own and never changes it (votes already cast keep their
        keys)."""
        if self.household_key:
            return self.household_key.encode("utf-8")
        return hashlib.sha256(f"linli-household:{self.wechat_appid}:{self.wechat_secret}".encode()).digest()

    @property
    def safe_mode(self) -> bool:
        return bool(self.wechat_aes_key)

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
    "LINLI_HOUSEHOLD_KEY": "household_key",
    "LINLI_OPEN311_KEY": "open311_key",
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
    return "***" if name in ("WECHAT_SECRET", "WECHAT_AES_KEY", "WECHAT_AES_KEY_PREVIOUS", "LINLI_HOUSEHOLD_KEY",
                             "LINLI_OPEN311_KEY") else raw


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


def _secret(raw: str) -> str:
    if len(raw) < 16:
        raise ValueError("密钥至少 16 个字符（建议用 `openssl rand -hex 32` 生成）")
    if any(c.isspace() for c in raw):
        raise ValueError("密钥不能含空白字符")
    return raw


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
    "household_key": _secret,
    "open311_key": _secret,
}


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}
