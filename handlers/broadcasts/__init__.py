"""Broadcasts in the staff console: progress of every push to residents, and the JSON API to send and retry,
limited to the staff member's jurisdiction."""
from bot.features import DemoStep, Feature
from handlers.broadcasts import demo
from handlers.broadcasts.console import console

feature = Feature("broadcasts", console=console, demo=DemoStep(80, demo.load))

__all__ = ["feature", "console"]
