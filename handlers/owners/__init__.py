"""Owners decide (issue 20): a verified household roster and lawful owners' votes (业主共同决定, Civil Code
art. 278). The roster (estates → buildings → units → rooms with their exclusive area and owners) is imported with
`linli roster import FILE` and corrected in the console; a resident bound as owner is verified against it (a code
after the roster's phone, or staff approval); motions are voted on in chat (`表决`) or on paper, tallied on area
and headcount by the pure rules in `rules.py`, and published as a notice at the close. See docs/owners-votes.md.
"""
from bot.features import Feature
from handlers.owners.cli import add_subcommands

feature = Feature("owners", cli=add_subcommands)

__all__ = ["feature"]
