"""The sandbox's WeChat errcodes and errmsgs, and the exception its pure state raises to produce one.

Errmsgs follow what WeChat returns (lower-case English); the HTTP layer appends a `rid` like WeChat does.
"""
from __future__ import annotations

ERRMSGS: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40004: "invalid media type",
    40006: "invalid meida size",
    40007: "invalid media_id",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40037: "invalid template_id",
    40053: "invalid action info",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
}


class ApiError(Exception):
    """Raised by the sandbox state; the HTTP layer answers `{"errcode": code, "errmsg": msg}` with status 200."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSGS.get(errcode, "error")
        super().__init__(f"{self.errcode} {self.errmsg}")
