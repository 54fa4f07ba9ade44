"""The household roster on SQLite and PostgreSQL: import from CSV and XLSX, co-owners and owners of several rooms,
every bad row reported by its line with nothing imported, re-import changing nothing, an estate's totals, the
command line; staff corrections of a room."""
from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from handlers.owners import roster, roster_file
from handlers.owners.cli import add_subcommands
from storage.owner_models import RosterHolding, RosterOwner, RosterRoom
from storage.repositories import owners as repo
from tests.owners.support import ESTATE, csv_bytes, demo_db, xlsx_bytes

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
ROWS = [
    [ESTATE, "1", "1", "101", "89.50", "张三", "13800000001"],
    [ESTATE, "1", "1", "101", "89.50", "李四", "13800000002"],  # co-owner of 1-1-101
    [ESTATE, "1", "1", "102", "120.25", "王五", "13800000003"],
    [ESTATE, "2", "", "201", "75", "王五", "13800000003"],  # 王五 holds two rooms
    [ESTATE, "2", "", "202", "60.10", "", ""],  # no owner on record (the developer's)
]


async def counts(session) -> tuple[int, int, int]:
    return tuple([int(await session.scalar(select(func.count()).select_from(m)))
                  for m in (RosterRoom, RosterOwner, RosterHolding)])  # type: ignore[return-value]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_import_and_totals(db_url, kind):
    data = csv_bytes(ROWS) if kind == "csv" else xlsx_bytes(ROWS)
    async with demo_db(db_url) as db:
        async with db.transaction() as session:
            plan = roster_file.parse(data, f"roster.{kind}")
            summary = await roster.apply_plan(session, plan, NOW)
        assert (summary.rooms_new, summary.owners_new) == (4, 3)
        async with db.transaction() as session:
            assert await counts(session) == (4, 3, 4)
            estate = (await repo.estates_by_code(session, [ESTATE]))[ESTATE]
            totals = await roster.totals(session, estate.id)
            # 张三+李四 (one holder), 王五 (two rooms, one holder), the developer's room: 3 households
            assert totals.as_dict() == {"households": 4, "owners": 3, "area": "344.85", "owners_listed": 3}
            assert estate.households == 4  # the estate's 户数 now comes from the roster
            room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "102"))
            assert room.area_cents == 12025
        async with db.transaction() as session:  # the same file again changes nothing
            again = await roster.apply_plan(session, roster_file.parse(data, f"roster.{kind}"), NOW)
            assert (again.rooms_new, again.rooms_changed, again.owners_new) == (0, 0, 0)
            assert await counts(session) == (4, 3, 4)


async def test_bad_rows_reported_by_line_and_nothing_imported(db_url):
    bad = ROWS + [
        [ESTATE, "3", "1", "301", "12.345", "赵六", "13800000004"],  # line 7: three decimals
        [ESTATE, "", "1", "302", "80", "钱七", ""],  # line 8: no building
        [ESTATE, "3", "1", "303", "80", "孙八", "12x"],  # line 9: bad phone
        [ESTATE, "1", "1", "101", "90.00", "周九", ""],  # line 10: another area for 1-1-101
    ]
    with pytest.raises(roster_file.RosterFileError) as caught:
        roster_file.parse(csv_bytes(bad), "roster.csv")
    problems = caught.value.problems
    assert [p.split("：")[0] for p in problems] == ["第7行", "第8行", "第9行", "第10行"]
    assert "面积" in problems[0] and "楼号" in problems[1] and "电话" in problems[2] and "第2行" in problems[3]
    unknown = ROWS + [["HX-NOPE-01", "1", "1", "101", "80", "", ""]]
    async with demo_db(db_url) as db:
        with pytest.raises(roster_file.RosterFileError) as caught:
            async with db.transaction() as session:
                await roster.apply_plan(session, roster_file.parse(csv_bytes(unknown), "r.csv"), NOW)
        assert caught.value.problems == ["第7行：没有编码为 HX-NOPE-01 的小区（先用 linli org import 导入）"]
        async with db.transaction() as session:
            assert await counts(session) == (0, 0, 0)


def test_missing_columns_and_unreadable_files():
    with pytest.raises(roster_file.RosterFileError) as caught:
        roster_file.parse(csv_bytes(ROWS, header=["小区编码", "楼号", "房号"]), "r.csv")
    assert "专有部分面积" in caught.value.problems[0]
    with pytest.raises(roster_file.RosterFileError):
        roster_file.parse(b"PK\x03\x04 not really", "r.xlsx")
    with pytest.raises(roster_file.RosterFileError):
        roster_file.parse(b"a,b", "r.txt")


async def test_staff_correction_of_a_room(db_url):
    async with demo_db(db_url) as db:
        async with db.transaction() as session:
            await roster.apply_plan(session, roster_file.parse(csv_bytes(ROWS), "r.csv"), NOW)
        async with db.transaction() as session:
            room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "202"))
            changes = await roster.correct_room(session, room, area="61.00", owners_text="吴十 13800000009\n郑十一",
                                                now=NOW)
            assert changes == ["面积 60.10 → 61.00", "业主改为 2 人"]
            owners = {o.name: o for o in await session.scalars(select(RosterOwner))}
            assert owners["吴十"].phone_masked == "138****0009" and owners["郑十一"].phone is None
        async with db.transaction() as session:
            room = await session.scalar(select(RosterRoom).where(RosterRoom.room == "202"))
            with pytest.raises(Exception, match="面积"):
                await roster.correct_room(session, room, area="-1", owners_text=None, now=NOW)
            await roster.correct_room(session, room, area=None, owners_text="", now=NOW)
            names = set(await session.scalars(select(RosterOwner.name)))
            assert "吴十" not in names  # an owner left with no room and no link goes
            assert room.area_cents == 6100 and Decimal(room.area_cents) / 100 == Decimal("61")


def linli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_import_and_totals(sqlite_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)

    async def seed():
        async with demo_db(sqlite_url):
            pass

    asyncio.run(seed())
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(ROWS + [[ESTATE, "3", "1", "301", "abc", "", ""]]))
    assert linli("roster", "import", str(bad)) == 1
    err = capsys.readouterr().err
    assert "第7行" in err and "未导入任何数据" in err
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes(ROWS))
    assert linli("roster", "import", str(good)) == 0
    assert "新增房屋 4 套" in capsys.readouterr().out
    assert linli("roster", "totals", ESTATE) == 0
    out = capsys.readouterr().out
    assert "4 户，业主 3 人" in out and "344.85" in out
    assert linli("roster", "import", str(tmp_path / "missing.csv")) == 1
