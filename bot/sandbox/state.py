"""The sandbox's world, as pure classes: followers, their 客服 windows, deliveries, template quota, menu, QR codes.

No HTTP here: each API method takes the parsed request and returns the JSON answer, or raises ApiError with
WeChat's errcode. The clock is injected (plus an offset the control API can advance).
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable

from bot.sandbox.errors import ApiError
from bot.sandbox.menu_rules import check_menu
from bot.sandbox.tokens import TokenBook
from bot.sandbox.window import Window

OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CUSTOM_TYPES = {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu",
                "wxcard", "miniprogrampage"}
CLIENT_MSG_ID_TTL = 600
BEIJING = 8 * 3600


@dataclass
class User:
    openid: str
    followed: bool = True
    subscribe_time: int = 0
    refused_templates: set[str] = field(default_factory=set)
    blocks_templates: bool = False
    window: Window = field(default_factory=Window)


@dataclass
class Delivery:
    id: int
    openid: str
    kind: str  # custom / template / subscribe
    payload: dict
    at: float
    msgid: int | None = None

    def as_json(self) -> dict:
        return {"id": self.id, "openid": self.openid, "kind": self.kind, "payload": self.payload, "at": self.at,
                "msgid": self.msgid}


class SandboxState:
    def __init__(self, appid: str, secret: str, *, clock: Callable[[], float] = time.time,
                 template_quota: int = 100_000, token_ttl: int = 7200):
        self.appid, self.secret = appid, secret
        self.base_clock = clock
        self.template_quota = template_quota
        self.offset = 0.0
        self.tokens = TokenBook(self.now, ttl=token_ttl)
        self.reset()

    def now(self) -> float:
        return self.base_clock() + self.offset

    def reset(self) -> None:
        self.offset = 0.0
        self.tokens.reset()
        self.users: dict[str, User] = {}
        self.deliveries: list[Delivery] = []
        self.template_days: dict[int, int] = {}
        self.client_msg_ids: dict[tuple[str, str], tuple[int, float]] = {}
        self.menu: dict | None = None
        self.media: dict[str, tuple[bytes, str, str, float]] = {}  # media_id -> (content, type, kind, put at)
        self.qrcodes: dict[str, dict] = {}
        self.qr_scenes: dict[str, dict] = {}  # ticket → {"scene", "action", "expires_at"} (what a scan reveals)

    # --- credentials ---------------------------------------------------------------------------------------
    def check_credentials(self, appid: str | None, secret: str | None, grant_type: str | None) -> None:
        if grant_type != "client_credential":
            raise ApiError(40002)
        if not appid:
            raise ApiError(41002)
        if appid != self.appid:
            raise ApiError(40013)
        if not secret:
            raise ApiError(41004)
        if secret != self.secret:
            raise ApiError(40125)

    # --- users and interactions ----------------------------------------------------------------------------
    def ensure_user(self, openid: str, at: float | None = None) -> User:
        """The follower `openid`, created (following) if new."""
        if not OPENID_RE.match(openid or ""):
            raise ValueError("openid 格式不对（1–64 位字母、数字、_ 或 -）")
        user = self.users.get(openid)
        if user is None:
            at = self.now() if at is None else at
            user = self.users[openid] = User(openid, subscribe_time=int(at))
        return user

    def interact(self, openid: str, kind: str, at: float | None = None) -> User:
        at = self.now() if at is None else float(at)
        user = self.ensure_user(openid, at)
        user.window.interact(kind, at)
        if kind == "unsubscribe":
            user.followed = False
        elif not user.followed:
            user.followed, user.subscribe_time = True, int(at)
        return user

    def user(self, openid: str | None) -> User:
        user = self.users.get(openid or "")
        if user is None:
            raise ApiError(40003)
        return user

    def user_info(self, openid: str | None) -> dict:
        user = self.user(openid)
        if not user.followed:
            return {"subscribe": 0, "openid": user.openid}
        return {"subscribe": 1, "openid": user.openid, "language": "zh_CN", "subscribe_time": user.subscribe_time,
                "remark": "", "groupid": 0, "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE",
                "qr_scene": 0, "qr_scene_str": ""}

    # --- messages ------------------------------------------------------------------------------------------
    def _deliver(self, openid: str, kind: str, payload: dict, msgid: int | None = None) -> Delivery:
        delivery = Delivery(len(self.deliveries) + 1, openid, kind, payload, self.now(), msgid)
        self.deliveries.append(delivery)
        return delivery

    def send_custom(self, body: dict) -> dict:
        user = self.user(body.get("touser"))
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_TYPES or not isinstance(body.get(msgtype), dict):
            raise ApiError(40008)
        if msgtype == "text" and not str(body["text"].get("content") or "").strip():
            raise ApiError(44004)
        if not user.followed:
            raise ApiError(43004)
        user.window.consume(self.now())
        self._deliver(user.openid, "custom", body)
        return {}

    def _beijing_day(self) -> int:
        return int((self.now() + BEIJING) // 86400)

    def send_template(self, body: dict) -> tuple[dict, Delivery | None]:
        user = self.user(body.get("touser"))
        if not body.get("template_id"):
            raise ApiError(40037)
        if not isinstance(body.get("data"), dict):
            raise ApiError(47003)
        if not user.followed:
            raise ApiError(43004)
        day = self._beijing_day()
        if self.template_days.get(day, 0) >= self.template_quota:
            raise ApiError(45009)
        key = (user.openid, str(body.get("client_msg_id") or ""))
        earlier = self.client_msg_ids.get(key) if key[1] else None
        if earlier and self.now() - earlier[1] < CLIENT_MSG_ID_TTL:
            return {"msgid": earlier[0]}, None
        self.template_days[day] = self.template_days.get(day, 0) + 1
        msgid = 2_000_000_000 + len(self.deliveries) + 1
        delivery = self._deliver(user.openid, "template", body, msgid)
        if key[1]:
            self.client_msg_ids[key] = (msgid, self.now())
        return {"msgid": msgid}, delivery

    def send_subscribe(self, body: dict) -> dict:
        user = self.user(body.get("touser"))
        template_id = body.get("template_id")
        if not template_id:
            raise ApiError(40037)
        if not isinstance(body.get("data"), dict):
            raise ApiError(47003)
        if template_id in user.refused_templates:
            raise ApiError(43101)
        self._deliver(user.openid, "subscribe", body)
        return {}

    def messages(self, openid: str | None = None, after: int = 0, kind: str | None = None) -> list[dict]:
        return [d.as_json() for d in self.deliveries
                if d.id > after and (openid is None or d.openid == openid) and (kind is None or d.kind == kind)]

    # --- menu and QR codes ---------------------------------------------------------------------------------
    def create_menu(self, body: dict) -> dict:
        check_menu(body)
        self.menu = {"button": body["button"]}
        return {}

    def get_menu(self) -> dict:
        if self.menu is None:
            raise ApiError(46003)
        return {"menu": self.menu}

    def create_qrcode(self, body: dict) -> dict:
        action, info = body.get("action_name"), (body.get("action_info") or {}).get("scene") or {}
        if action in ("QR_LIMIT_STR_SCENE", "QR_STR_SCENE"):
            scene = info.get("scene_str")
            valid = isinstance(scene, str) and 1 <= len(scene) <= 64
        elif action in ("QR_LIMIT_SCENE", "QR_SCENE"):
            scene = info.get("scene_id")
            limit = 100_000 if action == "QR_LIMIT_SCENE" else 2**32 - 1
            valid = isinstance(scene, int) and 0 < scene <= limit
        else:
            raise ApiError(40053)
        if not valid:
            raise ApiError(40053)
        permanent = action.startswith("QR_LIMIT")
        key = f"{action}:{scene}"
        if permanent and key in self.qrcodes:
            return self.qrcodes[key]
        code = secrets.token_urlsafe(16)
        answer: dict[str, str | int] = {"ticket": "gQ" + secrets.token_urlsafe(40), "url": f"http://weixin.qq.com/q/{code}"}
        expires_at = None
        if not permanent:
            # WeChat: a temporary code lives expire_seconds (default 60 s, at most 2592000 s = 30 days)
            seconds = body.get("expire_seconds")
            seconds = 60 if seconds in (None, "") else seconds
            if not isinstance(seconds, int) or seconds <= 0:
                raise ApiError(40053)
            answer["expire_seconds"] = min(seconds, 2_592_000)
            expires_at = self.now() + int(answer["expire_seconds"])
        self.qrcodes[key] = answer
        self.qr_scenes[str(answer["ticket"])] = {"scene": scene, "action": action, "expires_at": expires_at}
        return answer

    def scene_of(self, ticket: str) -> dict | None:
        """What scanning the code of `ticket` tells the account (None: unknown or expired ticket)."""
        found = self.qr_scenes.get(ticket)
        if found is None or (found["expires_at"] is not None and self.now() >= found["expires_at"]):
            return None
        return found

    def stats(self) -> dict:
        return {
            "users": len(self.users),
            "followers": sum(u.followed for u in self.users.values()),
            "deliveries": {k: sum(d.kind == k for d in self.deliveries) for k in ("custom", "template", "subscribe")},
            "template_sent_today": self.template_days.get(self._beijing_day(), 0),
            "template_quota": self.template_quota,
            "tokens_issued": dict(self.tokens.issued),
            "now": self.now(),
        }
