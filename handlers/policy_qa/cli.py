"""`linli kb reload [--kb DIR]`: validate a knowledge base and make every running server switch to it."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timezone

from knowledge import KnowledgeBaseError


def cmd_reload(args: argparse.Namespace) -> int:
    from bot.cli import settings_or_exit
    from handlers.policy_qa.kb_roots import OutsideRoot, checked
    from handlers.policy_qa.service import request_reload
    from storage.db import Database

    settings = settings_or_exit()
    try:
        directory = checked(str(args.kb) if args.kb else None, settings)
    except OutsideRoot as exc:
        print(f"未重新加载：{exc}", file=sys.stderr)
        return 1

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                return await request_reload(session, directory, "cli", datetime.now(timezone.utc))
        finally:
            await db.dispose()

    try:
        generation = asyncio.run(run())
    except KnowledgeBaseError as exc:
        print(f"知识库有 {len(exc.problems)} 处问题，未重新加载：", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"已通知所有服务重新加载知识库（第 {generation} 版，{directory or '内置知识库'}），约 10 秒内生效。")
    return 0


def add_subcommands(kb_group) -> None:
    """Add `reload` to the `kb` command group returned by knowledge.cli.add_subcommands."""
    from pathlib import Path

    p = kb_group.add_parser("reload", help="校验后让所有运行中的服务换用新知识库",
                            description="校验知识库，然后通知所有运行中的服务在约 10 秒内换用它。")
    p.add_argument("--kb", type=Path, default=None, metavar="DIR",
                   help="知识库目录（默认内置知识库）；须在 LINLI_KB_ROOT（默认 data/kb）或 LINLI_KB_DIR 之内")
    p.set_defaults(func=cmd_reload)
