"""`linli scorecard` on the known data set: the ranking of a scope, one company with its sources, the CSV, and
clear messages for a bad scope, period or subject."""
from __future__ import annotations

import threading

import pytest

from bot.cli import build_parser


@pytest.fixture
def run(services, data, monkeypatch, capsys):
    monkeypatch.setenv("LINLI_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("LINLI_SCORECARD_MIN_RESPONSES", "3")
    monkeypatch.setenv("LINLI_SCORECARD_MIN_TICKETS", "3")
    parser = build_parser()

    def call(*argv):
        args = parser.parse_args(["scorecard", *argv])
        box = {}
        thread = threading.Thread(target=lambda: box.update(code=args.func(args)))
        thread.start()
        thread.join()
        return box["code"], capsys.readouterr()

    return call


def test_ranking_of_a_scope(run):
    code, out = run("--scope", "HX", "--period", "2026-10")
    assert code == 0
    lines = out.out.splitlines()
    assert lines[0] == "河西区 2026年10月 物业服务企业评议" and "满意度调查满意率 40" in lines[1]
    assert lines[3].startswith("1 | 100.0 |") and "梅江嘉园" in lines[3]
    assert lines[4].startswith("2 | 60.1 | +23.5 | 津安物业服务有限公司") and "62.5%（8/42.1%）" in lines[4]
    assert "海河畔物业管理有限公司【无调查答卷，不排名】" in out.out
    code, out = run("--scope", "HX-YYL", "--period", "2026-10")
    assert "梅江嘉园" not in out.out and "友谊路街道" in out.out


def test_one_company_with_its_sources(run):
    code, out = run("--scope", "HX", "--period", "2026-10", "--subject", "WY-JA")
    assert code == 0
    assert "津安物业服务有限公司：综合得分 60.1，第 2 名（共 2 家参与排名）" in out.out
    assert "满意度调查 A" in out.out and "满意度调查 C" in out.out and "调查 B" not in out.out
    assert "投诉工单：8 件" in out.out and "JF2026TEST-0010" in out.out and "JF2026TEST-0011" not in out.out
    assert "截止 2026-10-15：逾期" in out.out and "未公示" in out.out


def test_csv_and_developers(run):
    code, out = run("--period", "2026-10", "--csv")
    assert code == 0 and out.out.startswith("层级,名次,单位编码")
    code, out = run("--period", "2026-10", "--kind", "developer")
    assert "河西建投房地产开发有限公司【样本不足，不排名】" in out.out


def test_bad_input(run):
    code, out = run("--scope", "NOPE", "--period", "2026-10")
    assert code == 1 and "NOPE" in out.err
    code, out = run("--period", "2026-13")
    assert code == 1 and "格式有误" in out.err
    code, out = run("--period", "2026-10", "--subject", "WY-XX")
    assert code == 1 and "WY-XX" in out.err
