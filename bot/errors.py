"""Domain errors: what a feature's rules refuse, with the HTTP status that refusal means and a Chinese message.

Services raise them; they never know about HTTP. The console maps every `DomainError` to a response in one
place (JSON `{"error", "message", …details}` for the API, an error page or the form again for pages), the chat
replies with the message, and the CLI prints it. A feature may subclass them (`NoticeError`, `TicketError`) to be
caught by name; the status comes from the class or is given where the error is raised, never guessed from the
message text.
"""
from __future__ import annotations

from typing import Any, ClassVar


class DomainError(ValueError):
    """A refusal with a Chinese `message` for the person who asked; `details` go into the API's JSON. (A
    `ValueError`, so code that validates input with `except ValueError` catches it too.)"""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid"

    def __init__(self, message: str, status: int | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details
        if status is not None:
            self.status = status  # type: ignore[misc]  # an instance may narrow its class's status

    def __str__(self) -> str:
        return self.message


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Invalid(DomainError):
    """The request is well-formed but the data breaks a rule (a field's value, a state that forbids it)."""

    status = 422
    code = "invalid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The object is in a state that no longer allows this (already published, already signed for)."""

    status = 409
    code = "conflict"
