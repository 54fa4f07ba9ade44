"""The monthly report (issue 21): one report per community, street or district and month — joint meetings,
disclosures, tickets by channel and the 三率, surveys, residents bound, policy questions — each figure beside last
month's, the communities of a street or district ranked, charts drawn on the server; a console page, a print
layout, a PDF, an XLSX, `linli report month`, and a job on the 1st that builds last month's reports and tells the
street and district heads. Every figure comes from the function its own feature computes it with (build.py).
See docs/reports.md.
"""
from bot.features import Feature
from handlers.reports.cli import add_subcommands
from handlers.reports.console import console
from handlers.reports.jobs import jobs

feature = Feature("reports", console=console, jobs=jobs, cli=add_subcommands)

__all__ = ["feature"]
