"""WeChat's checks on `menu/create`, answering with its errcodes (kept independent of bot/menu.py on purpose:
the sandbox is the referee the account's own validator is tested against).

1–3 top buttons (40016), 1–5 sub-buttons (40023); names ≤16 bytes top / ≤60 bytes sub (40018 / 40025);
keys ≤128 bytes (40019 / 40026); view URLs http(s) and ≤1024 bytes (40027); unknown types 40017 / 40024.
"""
from __future__ import annotations

from bot.sandbox.errors import ApiError

KEY_TYPES = {"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
             "location_select"}
OTHER_TYPES = {"view", "miniprogram", "media_id", "article_id", "article_view_limited"}
TOP, SUB = "top", "sub"
CODES = {  # (level, problem) -> errcode
    (TOP, "type"): 40017, (SUB, "type"): 40024,
    (TOP, "name"): 40018, (SUB, "name"): 40025,
    (TOP, "key"): 40019, (SUB, "key"): 40026,
    (TOP, "url"): 40027, (SUB, "url"): 40027,
}
NAME_BYTES = {TOP: 16, SUB: 60}


def check_menu(body: dict) -> None:
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise ApiError(40016)
    for button in buttons:
        if not isinstance(button, dict):
            raise ApiError(47001)
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise ApiError(40023)
            _check_name(button, TOP)
            for sub in subs:
                _check_leaf(sub, SUB)
        else:
            _check_leaf(button, TOP)


def _check_name(button: dict, level: str) -> None:
    name = button.get("name")
    if not isinstance(name, str) or not 0 < len(name.encode()) <= NAME_BYTES[level]:
        raise ApiError(CODES[level, "name"])


def _check_leaf(button: dict, level: str) -> None:
    if not isinstance(button, dict):
        raise ApiError(47001)
    kind = button.get("type")
    if kind not in KEY_TYPES and kind not in OTHER_TYPES:
        raise ApiError(CODES[level, "type"])
    _check_name(button, level)
    if kind in KEY_TYPES:
        key = button.get("key")
        if not isinstance(key, str) or not 0 < len(key.encode()) <= 128:
            raise ApiError(CODES[level, "key"])
    if kind in ("view", "miniprogram"):
        url = button.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url.encode()) > 1024:
            raise ApiError(CODES[level, "url"])
