"""The 12345 hotline (issue 21): import the hotline platform's work orders from its spreadsheet (a documented
column mapping, another city's through a mapping file), place each in a community by fuzzy matching its address
against the org tree, file it as a ticket with channel 12345 (the hotline's earlier deadline wins), list what
matched nothing or several places for staff to place by hand, and export the results back in the hotline's return
format. `linli hotline import FILE`, a console upload and the API. See docs/hotline.md.
"""
from bot.features import Feature
from handlers.hotline import erasure
from handlers.hotline.cli import add_subcommands
from handlers.hotline.console import console

feature = Feature("hotline", console=console, cli=add_subcommands, erase=erasure.erase_resident)

__all__ = ["feature"]
