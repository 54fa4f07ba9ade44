"""Access tokens as WeChat hands them out: `/cgi-bin/token` and `/cgi-bin/stable_token` (pure, clock injected).

- `/cgi-bin/token`: every call issues a new token; the previous one stays valid for 5 more minutes.
- `stable_token`, normal mode: the current token while more than 5 minutes remain, else a new one (the old one
  keeps its own expiry). Force mode: the current token is revoked at once and a new one issued, except within
  30 s of the previous forced refresh, when the current token is returned unchanged.
- The two families are isolated. Revoked or unknown → 40001, expired → 42001, none given → 41001.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from bot.sandbox.errors import ApiError

EARLY_REFRESH = 300
OLD_TOKEN_GRACE = 300


@dataclass
class Issued:
    token: str
    expires_at: float


class TokenBook:
    def __init__(self, clock: Callable[[], float], ttl: int = 7200, force_interval: float = 30.0):
        self.clock = clock
        self.ttl = ttl
        self.force_interval = force_interval
        self.reset()

    def reset(self) -> None:
        self.valid: dict[str, float] = {}  # token -> expires_at
        self.stable: Issued | None = None
        self.classic: Issued | None = None
        self.last_force: float | None = None
        self.issued = {"stable": 0, "stable_force": 0, "token": 0}

    def _new(self) -> Issued:
        issued = Issued("SBX_" + secrets.token_urlsafe(96), self.clock() + self.ttl)
        self.valid[issued.token] = issued.expires_at
        return issued

    def _answer(self, issued: Issued) -> tuple[str, int]:
        return issued.token, max(0, int(issued.expires_at - self.clock()))

    def stable_token(self, force: bool) -> tuple[str, int]:
        now = self.clock()
        current = self.stable if self.stable and self.stable.token in self.valid else None
        if force:
            recent = self.last_force is not None and now - self.last_force < self.force_interval
            if recent and current and current.expires_at > now:
                return self._answer(current)
            self.last_force = now
            self.issued["stable_force"] += 1
            if current:
                self.valid.pop(current.token, None)
        elif current and current.expires_at - now > EARLY_REFRESH:
            return self._answer(current)
        self.issued["stable"] += 1
        self.stable = self._new()
        return self._answer(self.stable)

    def classic_token(self) -> tuple[str, int]:
        now = self.clock()
        if self.classic and self.classic.token in self.valid:
            self.valid[self.classic.token] = min(self.classic.expires_at, now + OLD_TOKEN_GRACE)
        self.issued["token"] += 1
        self.classic = self._new()
        return self._answer(self.classic)

    def check(self, token: str | None) -> None:
        if not token:
            raise ApiError(41001)
        expires_at = self.valid.get(token)
        if expires_at is None:
            raise ApiError(40001)
        if expires_at <= self.clock():
            raise ApiError(42001)

    def revoke_all(self) -> None:
        """Invalidate every token (as a leak response would); callers then see 40001."""
        self.valid.clear()
