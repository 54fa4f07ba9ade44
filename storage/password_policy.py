"""What a staff password must be (pure): 12–128 characters, not the account's username, not on the list of common
passwords shipped with the project (storage/common-passwords.txt, compared in lower case).

Used everywhere a password is chosen: creating an account (console, API, `linli staff create`), an admin's reset,
one's own change, and `linli org import`. The demo file (`linli org demo`) alone is exempt: its published password
is marked to be changed at first login instead.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_FILE = Path(__file__).with_name("common-passwords.txt")
DEMO_PASSWORD = "linli-demo"  # storage/demo/demo.yaml: published, so never accepted in production


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with COMMON_FILE.open(encoding="utf-8") as f:
        return frozenset(line.rstrip("\n").lower() for line in f if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


def problem(password: str, username: str | None = None) -> str | None:
    """Why `password` may not be used (Chinese), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码过长（最多 {MAX_LENGTH} 位）"
    if username and password.strip().lower() == username.strip().lower():
        return "密码不能与用户名相同"
    if is_common(password) or password.lower() == DEMO_PASSWORD:
        return "这个密码太常见，很容易被猜中，请换一个（可以用几个词加数字和符号组成的短句）"
    return None
