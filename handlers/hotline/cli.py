"""`linli hotline import FILE` and `linli hotline export FILE`: the 12345 hotline's work orders from the command
line (as an administrator: every community may match). Bad rows are printed with their line numbers and nothing is
imported (exit 1); `export` writes the results of the orders closed since the last export in the return format.
"""
from __future__ import annotations

from pathlib import Path

from bot.cli import CliError, read_input_file, run_command


def add_subcommands(sub) -> None:
    p = sub.add_parser("hotline", help="12345 热线工单：导入（建立投诉工单）与回传办理结果")
    inner = p.add_subparsers(dest="hotline_command", required=True)
    i = inner.add_parser("import", help="导入 12345 平台导出的工单表格（.xlsx 或 .csv）")
    i.add_argument("file", help="表格文件")
    i.add_argument("--mapping", help="列对应文件（默认 LINLI_HOTLINE_MAPPING_FILE 或天津 12345 格式）")
    i.set_defaults(func=cmd_import)
    e = inner.add_parser("export", help="导出自上次回传以来办结的工单的办理结果（.xlsx）")
    e.add_argument("file", help="写入的 .xlsx 文件")
    e.add_argument("--mapping", help="列对应文件")
    e.set_defaults(func=cmd_export)


def _mapping(args, settings):
    from handlers.hotline.mapping import MappingError, load

    try:
        return load(args.mapping or settings.hotline_mapping_file)
    except MappingError as exc:
        raise CliError(str(exc)) from None


def _admin():
    from handlers.console.authz import Scope
    from storage.models import StaffLevel

    return Scope(StaffLevel.admin)


def cmd_import(args) -> int:
    async def work(session, services):
        from datetime import datetime, timezone

        from handlers.hotline import service

        path = Path(args.file)
        data = read_input_file(path, services.settings.hotline_max_bytes, "请分成几个文件导入")
        try:
            outcome = await service.import_file(session, services, data, path.name, _mapping(args, services.settings),
                                                _admin(), "cli", datetime.now(timezone.utc))
        except service.HotlineFileError as exc:
            raise CliError("\n".join([exc.message, *exc.problems])) from None
        lines = [outcome.describe()]
        lines += [f"  第 {line} 行 {number}：{why}（请在工作台「12345 工单」中指定社区）"
                  for line, number, why in outcome.unplaced]
        return "\n".join(lines)

    return run_command(work)


def cmd_export(args) -> int:
    async def work(session, services):
        from datetime import datetime, timezone

        from handlers.hotline import service

        mapping = _mapping(args, services.settings)
        rows, count = await service.export(session, _admin(), mapping, datetime.now(timezone.utc))
        try:
            Path(args.file).write_bytes(service.export_xlsx(list(mapping.export_columns.values()), rows))
        except OSError as exc:
            raise CliError(f"无法写入 {args.file}：{exc.strerror}") from None
        return f"已导出 {count} 件工单的办理结果到 {args.file}"

    return run_command(work)
