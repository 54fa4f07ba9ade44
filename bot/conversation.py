"""Conversation state as handlers see it: a state name and a data dict, saved by the dispatcher.

Handlers call `enter()`/`update()`/`clear()`; the dispatcher persists the result in the same transaction as
the message's other effects, so any worker can continue the dialog and a restart loses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConversationState:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @property
    def active(self) -> bool:
        return self.state is not None

    def enter(self, state: str, **data: Any) -> None:
        """Move to `state`, replacing the data with `data`."""
        self.state, self.data, self.changed = state, dict(data), True

    def update(self, state: str | None = None, **data: Any) -> None:
        """Stay in the dialog, optionally moving to `state`, merging `data`."""
        if state is not None:
            self.state = state
        self.data = {**self.data, **data}
        self.changed = True

    def clear(self) -> None:
        self.state, self.data, self.changed = None, {}, True

    def in_group(self, prefix: str) -> bool:
        return self.state is not None and self.state.startswith(prefix + ".")
