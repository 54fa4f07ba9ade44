"""Conversation state as handlers see it: a state name and a data dict, saved by the dispatcher.

Handlers call `enter()`/`update()`/`clear()` with a declared `bot.states.State` (a bare string is refused, so
every step a handler can enter is one the app checked at start); the dispatcher persists the result in the same
transaction as the message's other effects, so any worker can continue the dialog and a restart loses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.states import State


@dataclass
class ConversationState:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @property
    def active(self) -> bool:
        return self.state is not None

    def enter(self, state: State, **data: Any) -> None:
        """Move to `state`, replacing the data with `data`."""
        self.state, self.data, self.changed = _declared(state), dict(data), True

    def update(self, state: State | None = None, **data: Any) -> None:
        """Stay in the dialog, optionally moving to `state`, merging `data`."""
        if state is not None:
            self.state = _declared(state)
        self.data = {**self.data, **data}
        self.changed = True

    def restore(self, state: str | None, data: dict[str, Any]) -> None:
        """Go back to a state this conversation was in before (saved by the kernel, so already checked): used to
        undo the dialog step a misheard voice message advanced (bot/voice.py)."""
        self.state, self.data, self.changed = state, dict(data), True

    def clear(self) -> None:
        self.state, self.data, self.changed = None, {}, True

    def in_group(self, prefix: str) -> bool:
        return self.state is not None and self.state.startswith(prefix + ".")


def _declared(state: State) -> State:
    if not isinstance(state, State):
        raise TypeError(f"dialog state {state!r} is not declared in a StatesGroup (bot.states)")
    return state
