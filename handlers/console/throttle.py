"""The login limiter's policy (pure): how many failed password checks a key gets for free, then how long it must
wait before the next check — doubling with every further failure, up to a cap — and when failures are forgotten.

Keys (handlers/console/security.py chooses them for each attempt, the database rows are locked while deciding):
- `account:<username>` — every failure on the account from browsers it has not seen before;
- `device:<cookie>` — instead of the account key for a browser that has logged in to this account before (its
  `linli_device` cookie): an attacker's failures never make the owner's own browser wait;
- `client:<address>` — every failure from one client address (its /64 for IPv6), over all accounts.

An attempt is counted as a failure *before* its password is checked (so parallel guesses count too) and refunded
when it succeeds. Nobody is locked out for good: the longest wait is `cap` after the last failure, and refused
attempts (made while waiting) do not lengthen it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Policy:
    free: int  # failures with no wait
    first_wait: timedelta  # the wait after the `free`-th failure; doubles with each further one
    cap: timedelta  # the longest wait
    forget: timedelta  # failures older than this (with no wait running) are forgotten


ACCOUNT = Policy(free=5, first_wait=timedelta(minutes=1), cap=timedelta(minutes=15), forget=timedelta(hours=24))
DEVICE = ACCOUNT
CLIENT = Policy(free=20, first_wait=timedelta(minutes=1), cap=timedelta(minutes=15), forget=timedelta(hours=6))
POLICIES = {"account": ACCOUNT, "device": DEVICE, "client": CLIENT}


@dataclass(frozen=True)
class State:
    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None


def policy_of(key: str) -> Policy:
    return POLICIES[key.split(":", 1)[0]]


def wait_after(policy: Policy, failures: int) -> timedelta:
    """How long to wait after the `failures`-th failure before the next password check."""
    if failures < policy.free:
        return timedelta(0)
    doublings = min(failures - policy.free, 32)
    return min(policy.first_wait * (2 ** doublings), policy.cap)


def current(state: State, policy: Policy, now: datetime) -> State:
    """`state` with stale failures forgotten."""
    waiting = state.blocked_until is not None and state.blocked_until > now
    if state.last_failure_at is not None and not waiting and now - state.last_failure_at >= policy.forget:
        return State()
    return state


def blocked_until(state: State, now: datetime) -> datetime | None:
    """When the key may try again, while it must wait; None when it may try now."""
    return state.blocked_until if state.blocked_until is not None and state.blocked_until > now else None


def count_attempt(state: State, policy: Policy, now: datetime) -> State:
    """The state once this attempt is counted as a failure (before its password is checked)."""
    failures = state.failures + 1
    wait = wait_after(policy, failures)
    return State(failures, now, now + wait if wait else None)


def refund(state: State, policy: Policy) -> State:
    """Take back one counted attempt that turned out to be right (the wait it started shrinks with it)."""
    failures = max(0, state.failures - 1)
    wait = wait_after(policy, failures)
    until = state.last_failure_at + wait if wait and state.last_failure_at else None
    return replace(state, failures=failures, blocked_until=until)


def succeeded(key: str, state: State, policy: Policy) -> State:
    """After a successful login: the account's (or browser's) failures are cleared; a client's attempt is only
    refunded (one valid account must not wash away a client's guesses at others)."""
    return refund(state, policy) if key.startswith("client:") else State()
