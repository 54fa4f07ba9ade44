"""Pure rules of staff in the loop: the link codes' shape and lifetime, the limiter's policies for code guesses,
and reading the staff chat commands (`待办`, `签收 编号`, `回复 编号 内容`, `办结 编号 结果`, `退单 编号 理由`,
`退回 编号 理由`)."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from handlers.console.throttle import Policy

LINK_TTL = timedelta(minutes=10)  # a link code or QR token is good for ten minutes, once
RECENT_CODE = timedelta(days=1)  # a used or expired code sent within a day is answered as such
SCENE_PREFIX = "staff-link:"  # the QR scene: "staff-link:<token>" (≤ 64 characters)
CODE_RE = re.compile(r"^\d{6}$")
PHOTO_TTL = timedelta(minutes=30)  # a photo after 「办结 编号」 is its evidence for this long

# guesses at link codes: per WeChat user, and over everyone (an attacker with many accounts still gets nowhere:
# 10^6 codes, a handful live, a few dozen guesses an hour in all)
PER_USER = Policy(free=5, first_wait=timedelta(minutes=5), cap=timedelta(hours=1), forget=timedelta(hours=24))
EVERYONE = Policy(free=30, first_wait=timedelta(minutes=1), cap=timedelta(minutes=30), forget=timedelta(hours=1))
EVERYONE_KEY = "wxlink:*"

# 退回: the partner's reported 办结 is not accepted, back to the partner (退回承办单位)
VERBS = {"签收": "sign", "回复": "reply", "办结": "resolve", "退单": "return", "退回": "send_back"}
NEEDS_TEXT = {"reply": "回复内容", "resolve": "办理结果", "return": "退单理由", "send_back": "退回理由"}
COMMAND_RE = re.compile(r"^\s*(签收|回复|办结|退单|退回)\s*([A-Za-z0-9\-Ａ-Ｚａ-ｚ０-９－]+)?(?:\s+([\s\S]*))?$")
TODO_WORDS = ("待办", "我的待办")
UNLINK_WORDS = ("解绑工作账号", "解除工作账号绑定")
STAFF_HELP = ("待办：查看您的待办工单（带序号）", "签收 序号：签收工单（序号或工单编号）", "回复 序号 内容：答复居民",
              "办结 序号 结果：办结工单，随后可发照片作为办结凭证", "退单 序号 理由：不属于本级职责，退回上级重新分派",
              "退回 序号 理由：承办单位报告办结但未办好，退回承办单位继续办理",
              "解绑工作账号：本微信不再接收工作提醒")


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters: the scene stays within WeChat's 64


def scene_token(scene: str) -> str | None:
    """The token named by a QR scene, or None for a scene that is not a staff link."""
    if not scene.startswith(SCENE_PREFIX):
        return None
    token = scene[len(SCENE_PREFIX):]
    return token if 16 <= len(token) <= 48 and re.fullmatch(r"[A-Za-z0-9_\-]+", token) else None


def is_code(text: str) -> bool:
    return CODE_RE.match(unicodedata.normalize("NFKC", text).strip()) is not None


@dataclass(frozen=True)
class Command:
    action: str  # sign / reply / resolve / return / send_back
    ref: str  # a number from the last 「待办」 list, or a ticket number
    text: str


def parse_command(text: str) -> Command | str | None:
    """A staff command, or a Chinese explanation of what is missing, or None when the text is no command."""
    found = COMMAND_RE.match(text.strip())
    if found is None:
        return None
    verb, rest = found.group(1), (found.group(3) or "").strip()
    ref = unicodedata.normalize("NFKC", found.group(2) or "")
    action = VERBS[verb]
    if not ref:
        return f"请写明工单序号，例如「{verb} 1" + (" 内容」" if action in NEEDS_TEXT else "」") + "；回复「待办」查看序号。"
    if action in NEEDS_TEXT and not rest:
        return f"请在序号后写{NEEDS_TEXT[action]}，例如「{verb} {ref} ……」。"
    return Command(action, ref.upper(), rest)


def pick(ref: str, todo: list[int]) -> int | None:
    """The ticket id a list number names (1-based, from the last 「待办」), or None."""
    if ref.isdigit() and len(ref) <= 3 and 1 <= int(ref) <= len(todo):
        return todo[int(ref) - 1]
    return None
