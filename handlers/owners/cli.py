"""`linli roster import FILE` (the household roster, as an administrator: every row checked first, each bad row
printed with its line, nothing imported on any problem, exit 1) and `linli roster totals ESTATE_CODE`."""
from __future__ import annotations

from pathlib import Path

from bot.cli import CliError, read_input_file, run_command
from handlers.owners.roster_file import MAX_BYTES


def add_subcommands(sub) -> None:
    p = sub.add_parser("roster", help="业主名册：导入（.csv 或 .xlsx）与各小区户数、面积合计")
    inner = p.add_subparsers(dest="roster_command", required=True)
    i = inner.add_parser("import", help="导入业主名册（每行一位业主的一套房屋；有问题的行全部列出，整个文件不导入）")
    i.add_argument("file", help="名册文件（.csv 或 .xlsx）")
    i.set_defaults(func=cmd_import)
    t = inner.add_parser("totals", help="某小区名册中的房屋套数、业主人数（按表决计数规则）和专有部分面积合计")
    t.add_argument("estate", help="小区编码")
    t.set_defaults(func=cmd_totals)


def cmd_import(args) -> int:
    async def work(session, services):
        from datetime import datetime, timezone

        from handlers.owners import roster, roster_file

        path = Path(args.file)
        data = read_input_file(path, MAX_BYTES, "请按小区分成几个文件导入")
        try:
            plan = roster_file.parse(data, path.name)
            summary = await roster.apply_plan(session, plan, datetime.now(timezone.utc))
        except roster_file.RosterFileError as exc:
            raise CliError("\n".join([exc.message.replace("名册文件", f"名册文件 {path.name}", 1)
                                      if path.name not in exc.message else exc.message,
                                      *[f"  - {p}" for p in exc.problems]])) from None
        return summary.describe()

    return run_command(work)


def cmd_totals(args) -> int:
    async def work(session, services):
        from handlers.owners import roster
        from storage.repositories import owners as repo

        estate = (await repo.estates_by_code(session, [args.estate.upper()])).get(args.estate.upper())
        if estate is None:
            raise CliError(f"没有编码为 {args.estate} 的小区")
        t = await roster.totals(session, estate.id)
        return (f"{estate.name}：{t.households} 户，业主 {t.owners} 人（按表决计数规则），"
                f"专有部分面积合计 {t.as_dict()['area']} 平方米")

    return run_command(work)
