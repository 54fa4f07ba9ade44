"""`linli kb ask` and `linli kb check`."""
from __future__ import annotations

import argparse
import io
import json

from knowledge import cli
from tests.knowledge.kb_testutil import write


def run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_add_subcommands_sets_func():
    parser = argparse.ArgumentParser()
    cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["kb", "ask", "--top", "2", "--json", "物业费"])
    assert args.func is cli.cmd_ask and args.top == 2 and args.json and args.question == ["物业费"]
    args = parser.parse_args(["kb", "check", "somewhere"])
    assert args.func is cli.cmd_check


def test_ask_json_arguments(capsys, tiny_dir):
    code, out, _ = run(["kb", "ask", "--kb", str(tiny_dir), "--json", "物业废怎么交", "明天天气"], capsys)
    assert code == 0
    first, second = (json.loads(line) for line in out.strip().splitlines())
    assert first["question"] == "物业废怎么交" and first["matches"][0]["id"] == "fee-pay"
    assert set(first["matches"][0]) == {"id", "score", "title"}
    assert second == {"question": "明天天气", "outcome": "none", "matches": []}


def test_ask_reads_stdin(capsys, monkeypatch):
    code, out, _ = run(["kb", "ask", "--json", "--top", "1"], capsys, "业委会多久换届\n\n联系会议多久开一回\n",
                       monkeypatch)
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0 and len(lines) == 2
    assert [d["matches"][0]["id"] for d in lines] == ["committee-term-renewal", "joint-meeting-frequency"]
    assert all(len(d["matches"]) == 1 for d in lines)


def test_ask_human_output(capsys):
    code, out, _ = run(["kb", "ask", "业委会多久换届", "今天天气"], capsys)
    assert code == 0
    assert "结果：找到答案" in out and "来源：" in out and "没有找到答案" in out


def test_ask_with_invalid_kb(capsys, tmp_path):
    write(tmp_path, "x.yaml", "- {id: x}\n")
    code, _, err = run(["kb", "ask", "--kb", str(tmp_path), "物业费"], capsys)
    assert code == 2 and "缺少字段" in err


def test_check(capsys, tiny_dir, tmp_path):
    code, out, _ = run(["kb", "check", str(tiny_dir)], capsys)
    assert code == 0 and "有效：2 个条目" in out
    write(tmp_path / "bad", "x.yaml", "- {id: x, title: t, answer: '', source: s}\n")
    code, _, err = run(["kb", "check", str(tmp_path / "bad")], capsys)
    assert code == 1 and "x.yaml 第1条（id=x）：字段 answer 为空" in err
