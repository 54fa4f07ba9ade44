"""The `linli kb` command: ask the knowledge base from the command line, and validate a knowledge base.

    linli kb ask [--kb DIR] [--top N] [--json] [QUESTION ...]   (no question: one per line from stdin)
    linli kb check DIR      (validity, then how well it will be answered: knowledge.quality)

`bot/cli.py` calls `add_subcommands(subparsers)`; `python -m knowledge.cli …` runs it on its own.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .base import KnowledgeBase
from .model import Answer, KnowledgeBaseError
from .quality import review
from .render import NO_MATCH_TEXT

QUALITY_HEADS = {"misrouted": "问法会找到别的条目", "too_close": "条目之间太接近", "few_questions": "其他问法太少"}
OUTCOME_TEXT = {"answer": "找到答案", "ambiguous": "不太确定，可能是以下问题之一", "none": "没有找到答案"}


def _questions(args: argparse.Namespace):
    """Each argument is one question (or all of them one, with --joined); none: one per stdin line."""
    if args.question:
        yield from ([" ".join(args.question)] if args.joined else args.question)
        return
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield line


def _human(answer: Answer) -> str:
    lines = [f"问：{answer.question}", f"结果：{OUTCOME_TEXT[answer.outcome]}（置信度 {answer.confidence:.2f}）"]
    if answer.outcome == "answer":
        best = answer.matches[0]
        lines.append(f"条目：{best.entry.id}（{best.entry.title}，得分 {best.score:.2f}）")
        lines.append(f"答：{best.entry.answer}")
        lines.append(f"来源：{best.entry.source}")
        others = answer.matches[1:]
        if others:
            lines.append("其他相近条目：" + "；".join(f"{m.entry.id}（{m.score:.2f}）" for m in others))
    elif answer.outcome == "ambiguous":
        for i, m in enumerate(answer.matches, start=1):
            lines.append(f"  {i}. {m.entry.title} [{m.entry.id}，得分 {m.score:.2f}]")
    elif answer.suggested:
        lines.append("看起来是相关问题，可能想问：")
        for i, m in enumerate(answer.matches, start=1):
            lines.append(f"  {i}. {m.entry.title} [{m.entry.id}，得分 {m.score:.2f}]")
    else:
        lines.append(NO_MATCH_TEXT)
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    try:
        kb = KnowledgeBase.load(args.kb)
    except KnowledgeBaseError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    first = True
    for question in _questions(args):
        answer = kb.ask(question, top=args.top)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            if not first:
                print()
            print(_human(answer), flush=True)
        first = False
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        kb = KnowledgeBase.load(args.directory)
    except KnowledgeBaseError as exc:
        print(f"知识库 {args.directory} 有 {len(exc.problems)} 处问题：", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    files = sorted({e.file for e in kb.entries})
    print(f"知识库 {args.directory} 有效：{len(kb)} 个条目，{len(files)} 个文件。")
    findings = review(kb)
    if not findings:
        print("回答质量：没有发现问题。")
        return 0
    print(f"回答质量：{len(findings)} 条提示（不影响加载，建议在居民使用前修改条目）：")
    for kind, head in QUALITY_HEADS.items():
        shown = [f for f in findings if f.kind == kind]
        if shown:
            print(f"  {head}（{len(shown)}）：")
            for f in shown:
                print(f"    - {f.entry_id}：{f.message}")
    return 0


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("必须是正整数")
    return n


def add_subcommands(subparsers):
    """Add the `kb` command (with `ask` and `check`) to an argparse subparsers object; returns the `kb`
    sub-command group, so the bot can add the commands that need a database (`kb reload`)."""
    kb = subparsers.add_parser("kb", help="政策问答知识库：提问、校验、重新加载",
                               description="政策问答知识库：提问、校验、重新加载")
    sub = kb.add_subparsers(dest="kb_command", metavar="{ask,check,reload}")
    sub.required = True

    ask = sub.add_parser("ask", help="向知识库提问", description="向知识库提问；不给问题时从标准输入每行读一个问题。")
    ask.add_argument("--kb", type=Path, default=None, metavar="DIR",
                     help="用 DIR 中的 YAML 条目代替内置知识库（DIR 没有自带同义词表/用户词典时沿用内置的）")
    ask.add_argument("--top", type=_positive, default=3, metavar="N", help="最多列出 N 个候选条目（默认 3）")
    ask.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    ask.add_argument("--joined", action="store_true", help="把所有参数合成一个问题（默认每个参数是一个问题）")
    ask.add_argument("question", nargs="*", metavar="QUESTION", help="问题")
    ask.set_defaults(func=cmd_ask)

    check = sub.add_parser("check", help="校验知识库目录", description="校验知识库目录中的全部条目。")
    check.add_argument("directory", type=Path, metavar="DIR", help="知识库目录")
    check.set_defaults(func=cmd_check)
    return sub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    subparsers = parser.add_subparsers(dest="command", metavar="{kb}")
    subparsers.required = True
    add_subcommands(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
