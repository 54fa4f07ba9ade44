"""The customer-service (客服) message window of one user, as pure logic.

A user message grants 5 messages within 48 hours; a menu click, follow or scan grants 3 within 1 minute.
Each new interaction of a kind renews that kind's grant. A send uses the open grant that closes first; no open
grant → 45015 (window expired), open grants all used up → 45047 (quota exceeded).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.sandbox.errors import ApiError

MESSAGE_SPAN, MESSAGE_QUOTA = 48 * 3600, 5
EVENT_SPAN, EVENT_QUOTA = 60, 3
EVENT_KINDS = ("click", "subscribe", "scan")


@dataclass
class Grant:
    opened_at: float
    span: float
    quota: int
    used: int = 0

    def open(self, now: float) -> bool:
        return self.opened_at <= now < self.opened_at + self.span

    def closes_at(self) -> float:
        return self.opened_at + self.span


@dataclass
class Window:
    grants: dict[str, Grant] = field(default_factory=dict)

    def interact(self, kind: str, at: float) -> None:
        if kind == "message":
            self.grants["message"] = Grant(at, MESSAGE_SPAN, MESSAGE_QUOTA)
        elif kind in EVENT_KINDS:
            self.grants["event"] = Grant(at, EVENT_SPAN, EVENT_QUOTA)
        elif kind == "unsubscribe":
            self.grants.clear()
        else:
            raise ValueError(f"unknown interaction kind {kind!r}")

    def consume(self, now: float) -> None:
        """Use one message of the window or raise ApiError(45015 / 45047)."""
        open_grants = sorted((g for g in self.grants.values() if g.open(now)), key=Grant.closes_at)
        if not open_grants:
            raise ApiError(45015)
        for grant in open_grants:
            if grant.used < grant.quota:
                grant.used += 1
                return
        raise ApiError(45047)

    def describe(self, now: float) -> dict:
        return {
            name: {"open": g.open(now), "used": g.used, "quota": g.quota, "closes_at": g.closes_at()}
            for name, g in self.grants.items()
        }
