"""Broadcasts in the staff console: progress of every push to residents, and the JSON API to send and retry,
limited to the staff member's jurisdiction."""
from bot.features import Feature
from handlers.broadcasts.console import console

feature = Feature("broadcasts", console=console)

__all__ = ["feature", "console"]
