"""The one outbound client for the WeChat API endpoints linli calls (aiohttp; base URL from settings, so the same
code talks to `api.weixin.qq.com` or to `linli sandbox`).

It owns the transport rules every call follows:
- a timeout on every request (`settings.http_timeout`);
- 40001 / 40014 / 42001 (bad or expired token): exactly one token refresh through the token store, one retry;
- -1 (system busy), timeouts, dropped connections, 5xx: retried with capped exponential backoff and jitter
  (`RetryPolicy`), then `SystemBusy` / `WeChatUnavailable`;
- any other errcode: a typed `WeChatError` (subclasses for the codes callers branch on, see `ERRORS`);
- no access_token or secret in log lines or exception messages.
Template sends carry a `client_msg_id` (WeChat dedupes on it for 10 minutes), so a retry after a timeout does not
send twice. Customer-service sends have no such key: a retry after a lost response may deliver twice.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import aiohttp

from bot import metrics
from bot.settings import OFFICIAL_API_BASE, Settings
from storage.backoff import Backoff

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("linli.outbound")

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
MAX_MEDIA_BYTES = 10 * 1024 * 1024  # WeChat's own limit for a temporary voice is 2 MB, a video 10 MB
SYSTEM_BUSY = -1
QRCODE_HOST = "https://mp.weixin.qq.com"
_SECRET_RE = re.compile(r"((?:access_token|secret)=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask access_token / secret values in URLs and messages."""
    return _SECRET_RE.sub(r"\1***", str(text))


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = ""):
        self.errcode = errcode
        self.errmsg = redact(errmsg)
        super().__init__(f"微信接口返回错误 {errcode}：{self.errmsg}")


class WeChatUnavailable(Exception):
    """WeChat could not be reached or stayed busy after every retry."""


class SystemBusy(WeChatError, WeChatUnavailable):
    """-1 系统繁忙, still after every retry."""


class InvalidCredential(WeChatError):
    """40001 / 40014 / 42001 even after a token refresh (wrong secret, or another party force-refreshing)."""


class InvalidOpenID(WeChatError):
    """40003 不合法的 OpenID."""


class NotFollowing(WeChatError):
    """43004 the user does not follow the account."""


class UserRefused(WeChatError):
    """43101 the user refused this 订阅通知."""


class DailyQuotaExceeded(WeChatError):
    """45009 the API's daily quota is used up."""


class WindowExpired(WeChatError):
    """45015 outside the 客服 window (or the user unfollowed)."""


class ResponseQuotaExceeded(WeChatError):
    """45047 the 客服 window's message quota is used up."""


ERRORS: dict[int, type[WeChatError]] = {
    SYSTEM_BUSY: SystemBusy,
    40001: InvalidCredential, 40014: InvalidCredential, 42001: InvalidCredential,
    40003: InvalidOpenID,
    43004: NotFollowing,
    43101: UserRefused,
    45009: DailyQuotaExceeded,
    45015: WindowExpired,
    45047: ResponseQuotaExceeded,
}


def wechat_error(errcode: int, errmsg: str = "") -> WeChatError:
    return ERRORS.get(errcode, WeChatError)(errcode, errmsg)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in total (first try included); delay before retry n is min(max_delay, base_delay·2ⁿ⁻¹), minus up
    to `jitter` of itself at random."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.5

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        return Backoff(self.base_delay, self.max_delay, jitter=self.jitter).delay(retry, rng)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RetryPolicy":
        """LINLI_WECHAT_RETRY_ATTEMPTS / _BASE_DELAY / _MAX_DELAY (validated at start by bot.settings)."""
        return cls(attempts=settings.wechat_retry_attempts, base_delay=settings.wechat_retry_base_delay,
                   max_delay=settings.wechat_retry_max_delay)


class TokenStore(Protocol):
    async def get(self) -> str: ...

    async def invalidate(self, bad_token: str) -> str: ...


class _Transient(Exception):
    """One failed attempt worth retrying; `error` is what to raise if it was the last."""

    def __init__(self, error: Exception):
        self.error = error


class WeChatClient:
    def __init__(self, settings: Settings, token_store: TokenStore | None = None,
                 session: aiohttp.ClientSession | None = None, *, retry: RetryPolicy | None = None,
                 rng: random.Random | None = None):
        self.settings = settings
        self.base = settings.wechat_api_base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=settings.http_timeout)
        self.retry = retry or RetryPolicy.from_settings(settings)
        self.rng = rng or random.Random()
        self._session, self._own_session = session, session is None
        if token_store is None:
            from bot.tokens import MemoryTokenStore

            token_store = MemoryTokenStore(self.fetch_stable_token)
        self.tokens = token_store

    @classmethod
    def with_database_tokens(cls, settings: Settings, sessions: "async_sessionmaker[AsyncSession]",
                             session: aiohttp.ClientSession | None = None, **kw) -> "WeChatClient":
        """A client whose token lives in the `wechat_tokens` row shared by every worker."""
        from bot.tokens import DatabaseTokenStore

        client = cls(settings, None, session, **kw)
        client.tokens = DatabaseTokenStore(sessions, settings.wechat_appid, client.fetch_stable_token)
        return client

    async def __aenter__(self) -> "WeChatClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    # --- transport -----------------------------------------------------------------------------------------
    async def call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                   token: bool = True) -> dict:
        """One API call with the token, refresh and retry rules; returns the decoded JSON answer."""
        if not token:
            return await self._request(method, path, params or {}, body)
        access_token = await self.tokens.get()
        try:
            return await self._request(method, path, {**(params or {}), "access_token": access_token}, body)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeChat API %s answered %s; refreshing the access_token and retrying once", path, exc.errcode)
        access_token = await self.tokens.invalidate(access_token)
        return await self._request(method, path, {**(params or {}), "access_token": access_token}, body)

    async def _request(self, method: str, path: str, params: dict, body: dict | None) -> dict:
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(method, path, params, body)
            except _Transient as failure:
                if attempt == attempts:
                    log.warning("WeChat API %s still failing after %d attempts: %s", path, attempts, failure.error)
                    raise failure.error from None
                delay = self.retry.delay(attempt, self.rng)
                log.info("WeChat API %s attempt %d failed (%s); retrying in %.2f s", path, attempt, failure.error, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _once(self, method: str, path: str, params: dict, body: dict | None) -> dict:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        try:
            async with self._http().request(method, self.base + path, params=params, data=data, headers=headers,
                                            timeout=self.timeout) as resp:
                if resp.status >= 500:
                    raise _Transient(WeChatUnavailable(f"微信接口 {path} 返回 HTTP {resp.status}"))
                raw = await resp.read()
        except (asyncio.TimeoutError, TimeoutError):
            metrics.WECHAT_CALLS.labels(metrics.api_label(path), "unavailable").inc()
            raise _Transient(WeChatUnavailable(f"微信接口 {path} 超时（{self.timeout.total} 秒）")) from None
        except aiohttp.ClientError as exc:
            metrics.WECHAT_CALLS.labels(metrics.api_label(path), "unavailable").inc()
            raise _Transient(WeChatUnavailable(f"微信接口 {path} 连接失败：{type(exc).__name__}")) from None
        except _Transient:
            metrics.WECHAT_CALLS.labels(metrics.api_label(path), "unavailable").inc()
            raise
        return self._decode(path, raw)

    @staticmethod
    def _decode(path: str, raw: bytes) -> dict:
        try:
            answer = json.loads(raw)
        except ValueError:
            raise _Transient(WeChatUnavailable(f"微信接口 {path} 返回的不是 JSON")) from None
        if not isinstance(answer, dict):
            raise _Transient(WeChatUnavailable(f"微信接口 {path} 返回的不是 JSON 对象"))
        errcode = int(answer.get("errcode") or 0)
        api = metrics.api_label(path)
        metrics.WECHAT_CALLS.labels(api, "errcode" if errcode else "ok").inc()
        if errcode:
            metrics.WECHAT_ERRCODES.labels(api, str(errcode)).inc()
        if errcode == SYSTEM_BUSY:
            raise _Transient(SystemBusy(errcode, str(answer.get("errmsg", ""))))
        if errcode:
            raise wechat_error(errcode, str(answer.get("errmsg", "")))
        return answer

    # --- endpoints -----------------------------------------------------------------------------------------
    async def fetch_stable_token(self, force_refresh: bool = False) -> tuple[str, int]:
        """`POST /cgi-bin/stable_token`: (access_token, expires_in seconds)."""
        answer = await self.call("POST", "/cgi-bin/stable_token", token=False, body={
            "grant_type": "client_credential", "appid": self.settings.wechat_appid,
            "secret": self.settings.wechat_secret, "force_refresh": bool(force_refresh)})
        return str(answer["access_token"]), int(answer["expires_in"])

    async def get_media(self, media_id: str, max_bytes: int = MAX_MEDIA_BYTES) -> tuple[bytes, str]:
        """`GET /cgi-bin/media/get`: a temporary media file (a voice message, a photo) by MediaId, as (content,
        content type). One attempt (a resident is waiting; the caller decides what a failure means), with one
        access_token refresh. WeChat answers an error as JSON with HTTP 200, the file itself as binary."""
        path = "/cgi-bin/media/get"
        access_token = await self.tokens.get()
        for attempt in (1, 2):
            try:
                async with self._http().get(self.base + path, params={"access_token": access_token, "media_id": media_id},
                                            timeout=self.timeout) as resp:
                    if resp.status >= 500 or resp.status == 404:
                        raise WeChatUnavailable(f"微信接口 {path} 返回 HTTP {resp.status}")
                    content_type = resp.content_type
                    raw = await resp.content.read(max_bytes + 1)
            except (asyncio.TimeoutError, TimeoutError):
                metrics.WECHAT_CALLS.labels(metrics.api_label(path), "unavailable").inc()
                raise WeChatUnavailable(f"微信接口 {path} 超时（{self.timeout.total} 秒）") from None
            except aiohttp.ClientError as exc:
                metrics.WECHAT_CALLS.labels(metrics.api_label(path), "unavailable").inc()
                raise WeChatUnavailable(f"微信接口 {path} 连接失败：{type(exc).__name__}") from None
            if content_type not in ("application/json", "text/plain"):
                if len(raw) > max_bytes:
                    raise WeChatUnavailable(f"微信接口 {path} 返回的文件超过 {max_bytes} 字节")
                metrics.WECHAT_CALLS.labels(metrics.api_label(path), "ok").inc()
                return raw, content_type
            try:
                answer = self._decode(path, raw)
            except _Transient as failure:
                raise failure.error from None
            except WeChatError as exc:
                if exc.errcode not in TOKEN_ERRORS or attempt == 2:
                    raise
                access_token = await self.tokens.invalidate(access_token)
                continue
            video_url = answer.get("video_url")
            if isinstance(video_url, str) and video_url.startswith(("http://", "https://")):
                return await self._download(video_url, max_bytes)  # a video: WeChat answers where to fetch it
            raise WeChatUnavailable(f"微信接口 {path} 没有返回文件")
        raise AssertionError("unreachable")

    async def _download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """A video's file from the address `media/get` gave (no access_token: the address carries its own)."""
        try:
            async with self._http().get(url, timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise WeChatUnavailable(f"微信视频地址返回 HTTP {resp.status}")
                content_type = resp.content_type
                raw = await resp.content.read(max_bytes + 1)
        except (asyncio.TimeoutError, TimeoutError):
            raise WeChatUnavailable(f"微信视频地址超时（{self.timeout.total} 秒）") from None
        except aiohttp.ClientError as exc:
            raise WeChatUnavailable(f"微信视频地址连接失败：{type(exc).__name__}") from None
        if len(raw) > max_bytes:
            raise WeChatUnavailable(f"微信视频文件超过 {max_bytes} 字节")
        return raw, content_type

    async def send_custom(self, payload: dict) -> None:
        """A 客服 message (`payload` as documented: touser, msgtype, and the msgtype's object)."""
        await self.call("POST", "/cgi-bin/message/custom/send", body=payload)

    async def send_text(self, openid: str, content: str) -> None:
        await self.send_custom({"touser": openid, "msgtype": "text", "text": {"content": content}})

    async def send_template(self, openid: str, template_id: str, data: dict, url: str | None = None, *,
                            client_msg_id: str | None = None) -> int:
        """A template message; returns WeChat's msgid. `data` values may be plain strings."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": _template_data(data),
                                "client_msg_id": client_msg_id or uuid.uuid4().hex}
        if url:
            body["url"] = url
        answer = await self.call("POST", "/cgi-bin/message/template/send", body=body)
        return int(answer["msgid"])

    async def send_subscribe(self, openid: str, template_id: str, data: dict, page: str | None = None) -> None:
        """A 订阅通知 (`message/subscribe/bizsend`); `page` is the web page it opens."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": _template_data(data)}
        if page:
            body["page"] = page
        await self.call("POST", "/cgi-bin/message/subscribe/bizsend", body=body)

    async def user_info(self, openid: str, lang: str = "zh_CN") -> dict:
        """`GET /cgi-bin/user/info`; `subscribe` is 0 for a user who no longer follows."""
        return await self.call("GET", "/cgi-bin/user/info", params={"openid": openid, "lang": lang})

    async def create_menu(self, menu: dict) -> None:
        await self.call("POST", "/cgi-bin/menu/create", body=menu)

    async def get_menu(self) -> dict:
        return await self.call("GET", "/cgi-bin/menu/get")

    async def create_qrcode(self, scene_str: str) -> dict:
        """A permanent QR code (`QR_LIMIT_STR_SCENE`); answers `{"ticket", "url"}`."""
        if not 1 <= len(scene_str) <= 64:
            raise ValueError("二维码场景值长度须为 1–64 个字符")
        return await self.call("POST", "/cgi-bin/qrcode/create", body={
            "action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene_str}}})

    async def create_temporary_qrcode(self, scene_str: str, expire_seconds: int) -> dict:
        """A temporary QR code (`QR_STR_SCENE`, at most 30 days); answers `{"ticket", "expire_seconds", "url"}`."""
        if not 1 <= len(scene_str) <= 64:
            raise ValueError("二维码场景值长度须为 1–64 个字符")
        return await self.call("POST", "/cgi-bin/qrcode/create", body={
            "expire_seconds": int(expire_seconds), "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene_str}}})

    async def qrcode_image(self, ticket: str, max_bytes: int = 512 * 1024) -> tuple[bytes, str]:
        """The QR image of `ticket` (showqrcode needs no access token), as (content, content type)."""
        try:
            async with self._http().get(self.qrcode_url(ticket), timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise WeChatUnavailable(f"二维码图片获取失败：HTTP {resp.status}")
                raw = await resp.content.read(max_bytes + 1)
                if len(raw) > max_bytes:
                    raise WeChatUnavailable("二维码图片过大")
                return raw, resp.content_type
        except (asyncio.TimeoutError, TimeoutError):
            raise WeChatUnavailable("二维码图片获取超时") from None
        except aiohttp.ClientError as exc:
            raise WeChatUnavailable(f"二维码图片获取失败：{type(exc).__name__}") from None

    def qrcode_url(self, ticket: str) -> str:
        """Where the QR image for `ticket` is shown (mp.weixin.qq.com, or the sandbox)."""
        host = QRCODE_HOST if self.base == OFFICIAL_API_BASE else self.base
        return f"{host}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"


def _template_data(data: dict) -> dict:
    return {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()}
