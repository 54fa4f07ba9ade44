"""Broadcasts in the staff console: progress of every push to residents, and the JSON API to send and retry,
limited to the staff member's jurisdiction."""
from handlers.broadcasts.console import console

__all__ = ["console"]
