"""Policy Q&A: residents' free-text questions answered from the keyword knowledge base."""
from aiohttp import web

from bot.context import Services
from bot.features import ChatRouter, DemoStep, Feature
from handlers.policy_qa import demo, erasure
from handlers.policy_qa.router import build_router
from handlers.policy_qa.states import QA


def _console(registry) -> None:
    from handlers.policy_qa.console import console

    console(registry)


def _web(app: web.Application, services: Services) -> None:
    """Follow `linli kb reload` from any process: swap the knowledge base when its generation changes."""
    if services.knowledge is not None:
        from handlers.policy_qa.reload import background

        app.cleanup_ctx.append(background(services))


def _cli(subparsers) -> None:
    from handlers.policy_qa.cli import add_subcommands as reload_command
    from knowledge.cli import add_subcommands as knowledge_commands

    reload_command(knowledge_commands(subparsers))


# answers any text, so it comes after every feature with words of its own
feature = Feature("policy_qa", routers=[ChatRouter(900, build_router)], console=_console, web=_web, cli=_cli,
                  states=[QA], erase=erasure.erase_resident, erase_warning=erasure.erase_warning,
                  demo=DemoStep(900, demo.load))

__all__ = ["feature", "build_router"]
