"""Owners decide (issue 20): a verified household roster and lawful owners' votes (业主共同决定, Civil Code
art. 278). The roster (estates → buildings → units → rooms with their exclusive area and owners) is imported with
`linli roster import FILE` and corrected in the console; a resident bound as owner is verified against it (a code
after the roster's phone, or staff approval); motions are voted on in chat (`表决`) or on paper, tallied on area
and headcount by the pure rules in `rules.py`, and published as a notice at the close. See docs/owners-votes.md.
"""
from bot.features import ChatRouter, DemoStep, Feature
from handlers.owners import demo, erasure, jobs
from handlers.owners.cli import add_subcommands
from handlers.owners.console import console
from handlers.owners.router import build_router
from handlers.owners.states import Ballot, Verify


def _web(app, services) -> None:
    from handlers.owners.attachments import public_route

    app.router.add_get("/m/a/{token}", public_route(services))  # a motion's files, by signed expiring link


feature = Feature("owners", web=_web, routers=[ChatRouter(62, build_router)], cli=add_subcommands, states=[Verify, Ballot],
                  console=console, jobs=jobs.jobs, erase=erasure.erase_resident,
                  demo=DemoStep(65, demo.load))

__all__ = ["feature"]
