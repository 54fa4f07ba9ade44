"""Declared dialog states, in the style of aiogram's `StatesGroup`.

A feature declares its dialog steps once:

    class Bind(StatesGroup, prefix="bind"):
        district = state()
        room = state()

`Bind.room` is then the `State` "bind.room" (a `str`, so it is stored and compared as before). Handlers enter
only declared states (`ConversationState.enter` refuses a bare string) and routes name them
(`@router.state(Bind.room)` or the whole group, `Bind.any`). At start the app checks, with `check_routes`, that
every declared state has a route that handles it and that every route names a declared state, so a typo or a
forgotten step stops the start instead of stranding a resident in a dialog nobody answers.
"""
from __future__ import annotations

from typing import ClassVar, Iterable, cast


class State(str):
    """A declared dialog state; its value is "<group prefix>.<name>"."""

    __slots__ = ()


class GroupPattern(str):
    """Every state of one group ("<prefix>.*"), for routes that handle a whole dialog."""

    __slots__ = ()


class _Pending:
    """Placeholder created by `state()` until the group's class body is complete."""


def state() -> State:
    """Declare a dialog state inside a `StatesGroup` body."""
    return cast(State, _Pending())


class StatesGroup:
    """Base class of a feature's dialog states; subclass with `prefix="name"`."""

    prefix: ClassVar[str] = ""
    states: ClassVar[tuple[State, ...]] = ()
    any: ClassVar[GroupPattern]

    def __init_subclass__(cls, prefix: str = "", **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or "." in prefix or "*" in prefix:
            raise ValueError(f"{cls.__name__}: a StatesGroup needs a prefix without '.' or '*'")
        cls.prefix = prefix
        declared = []
        for name, value in list(vars(cls).items()):
            if isinstance(value, _Pending):
                declared.append(State(f"{prefix}.{name}"))
                setattr(cls, name, declared[-1])
        cls.states = tuple(declared)
        cls.any = GroupPattern(f"{prefix}.*")


class StateCheckError(RuntimeError):
    """The routers and the declared states disagree; raised at start with every problem listed."""


def check_routes(groups: Iterable[type[StatesGroup]], specs: Iterable[tuple[str, str]]) -> None:
    """Every declared state has a route that handles it, and every route's state names a declared state or group.

    `specs` are (router name, state spec) for every route with a dialog-state spec (not NO_STATE, ANY_STATE or
    "*", which match regardless of the dialog). A step counts as handled only by a route naming it: a group-wide
    route ("tickets.*": a photo sent during any step) adds to the steps, it does not answer one."""
    groups = list(groups)
    declared = {s for g in groups for s in g.states}
    prefixes = {f"{g.prefix}." for g in groups}
    seen: set[str] = set()
    problems = []
    for router, spec in specs:
        if spec.endswith(".*"):
            if spec[:-1] not in prefixes:  # a group-wide route (photos, 取消) helps every step, answers none
                problems.append(f"router {router}: state group {spec!r} is not declared")
        elif spec in declared:
            seen.add(spec)
        else:
            problems.append(f"router {router}: state {spec!r} is not declared in any StatesGroup")
    problems += [f"state {s!r} is declared but no route handles it" for s in sorted(declared - seen)]
    if problems:
        raise StateCheckError("dialog states do not match the routes:\n  " + "\n  ".join(problems))
