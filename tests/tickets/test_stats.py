"""The figures on a known data set (pure), by category and company, the CSV, and `linli ticket stats`."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from handlers.tickets import stats
from handlers.tickets.stats import Fact

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=60)
H, D = timedelta(hours=1), timedelta(days=1)


def fact(category, status, responded=None, resolved=None, level=None, rating=None, closed=None, company=None,
         sign_due=T0 + D, resolve_due=T0 + 7 * D, created=T0):
    return Fact(category, status, created, sign_due, responded, resolved, level, resolve_due, rating, closed,
                company, "谊景社区")


FACTS = [
    fact("repair", "closed", T0 + 2 * H, T0 + 3 * D, "community", 5, "rated", "津安物业"),
    fact("repair", "closed", T0 + 30 * H, T0 + 10 * D, "street", 2, "rated", "津安物业", resolve_due=T0 + 15 * D),
    fact("fees", "rejected", T0 + H, company="海河畔物业"),
    fact("fees", "received", company="海河畔物业", created=NOW - H, sign_due=NOW + 23 * H),  # response not yet due
    fact("parking", "closed", T0 + H, closed="merged"),
    fact("environment", "closed", T0 + 5 * H, T0 + 40 * D, "district", 4, "rated", resolve_due=T0 + 30 * D),
    fact("repair", "assigned", T0 + 20 * H),
]


def test_figures_on_a_known_data_set():
    f = stats.compute(FACTS, NOW)
    assert (f.received, f.accepted, f.rejected, f.merged, f.open) == (7, 5, 1, 1, 2)
    assert (f.responded_in_time, f.response_due, f.response_rate) == (5, 6, 83.3)
    assert (f.resolved, f.resolution_rate, f.resolved_in_time, f.on_time_rate) == (3, 60.0, 2, 66.7)
    assert (f.satisfied, f.rated, f.satisfaction_rate) == (2, 3, 66.7)
    assert (f.median_response_hours, f.median_resolve_days) == (3.5, 10.0)
    assert f.settled == {"community": 1, "street": 1, "district": 1}
    assert (f.community_share, f.street_share) == (33.3, 66.7)


def test_breakdowns_and_csv():
    by_company = dict(stats.breakdown(FACTS, NOW, "company"))
    assert by_company["津安物业"].received == 2 and by_company["津安物业"].satisfaction_rate == 50.0
    assert by_company["（未登记）"].received == 3
    by_category = dict(stats.breakdown(FACTS, NOW, "category"))
    assert by_category["维修"].received == 3 and by_category["收费"].accepted == 1
    rows = list(csv.reader(io.StringIO(stats.report_csv(stats.report(FACTS, NOW)))))
    header, total = rows[0], rows[1]
    assert total[:2] == ["合计", "全部"] and total[header.index("满意率%")] == "66.7"
    assert total[header.index("不出社区率%")] == "33.3" and total[header.index("社区办结")] == "1"
    assert {r[0] for r in rows[2:]} == {"类别", "渠道", "物业服务企业", "社区"}


def test_empty_period_has_no_rates():
    f = stats.compute([], NOW)
    assert f.received == 0 and f.response_rate is None and f.satisfaction_rate is None


async def test_cli_stats_and_show(services, monkeypatch, capsys):
    from bot.cli import build_parser
    from tests.tickets.conftest import NOW as FILED
    from tests.tickets.test_service import act, new_ticket

    tid = await new_ticket(services, phone="13812345678")
    await act(services, tid, "sign", "yijing", now=FILED + H)
    monkeypatch.setenv("LINLI_DATABASE_URL", services.settings.database_url)
    parser = build_parser()
    from handlers.tickets.cli import add_subcommands
    if "ticket" not in parser._subparsers._group_actions[0].choices:
        add_subcommands(parser._subparsers._group_actions[0])

    def run(*argv):
        args = parser.parse_args(list(argv))
        import threading
        box = {}
        thread = threading.Thread(target=lambda: box.update(code=args.func(args)))
        thread.start()
        thread.join()
        return box["code"], capsys.readouterr()

    code, out = run("ticket", "stats", "--scope", "HX-YYL", "--since", "2026-11-01", "--until", "2026-11-30")
    assert code == 0 and "受理 1 件" in out.out and "响应率 100.0%" in out.out
    code, out = run("ticket", "stats", "--scope", "HX-MJ", "--since", "2026-11-01", "--until", "2026-11-30", "--csv")
    assert code == 0 and out.out.splitlines()[1].startswith("合计,全部,0")
    code, out = run("ticket", "list", "--scope", "HX")
    assert code == 0 and "JF20261126-0001" in out.out and "13812345678" not in out.out
    code, out = run("ticket", "resolve", "JF20261126-0001", "--as", "youyilu", "--text", "好了")
    assert code == 1 and "未办理" in out.err
    code, out = run("ticket", "resolve", "JF20261126-0001", "--as", "yijing", "--text", "电梯已修复")
    assert code == 0 and "已办结" in out.out
    code, out = run("ticket", "show", "JF20261126-0001")
    assert "电梯已修复" in out.out and "138****5678" in out.out and "13812345678" not in out.out
    code, out = run("ticket", "stats", "--scope", "NOPE")
    assert code == 1 and "NOPE" in out.err


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
