"""12345 work orders, on SQLite and PostgreSQL: a hotline spreadsheet (xlsx and csv) imported into tickets with
channel 12345 in the right communities, repeated rows and a re-import changing nothing, unmatched and ambiguous
addresses listed and placed by hand, bad rows reported with their lines and nothing half-imported, the hotline's
earlier deadline winning, a mapping file for another city, and the export after closure."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.app import build_services
from bot.localtime import LOCAL_TZ
from handlers.console.authz import Scope
from handlers.hotline import matching, service
from handlers.hotline.mapping import MappingError, load, parse
from handlers.hotline.sheet import SheetError, read
from handlers.tickets import service as tickets
from handlers.tickets.rules import Actor
from storage.hotline_models import HotlineImport, HotlineOrder
from storage.models import Community, Estate, StaffLevel
from storage.repositories.org import load_demo
from storage.ticket_models import Ticket
from tests.support import BASE, fixed_clock

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=LOCAL_TZ)
ADMIN = Scope(StaffLevel.admin)
HEADER = ["工单编号", "受理时间", "来电人", "联系电话", "问题地址", "诉求内容", "问题分类", "办理时限", "承办单位"]
ROWS = [
    # 谊景花园: an exact estate name; the hotline's deadline (27 Nov) is earlier than ours (7 working days)
    ["TJ12345-0001", "2026-11-25 09:30:00", "张三丰", "13812345678", "天津市河西区友谊路谊景花园3号楼2门301",
     "楼道灯坏了一个星期没人修", "物业管理-维修", "2026-11-27", "河西区友谊路街道"],
    # 蓝水园 written 蓝水花园 (fuzzy), an Excel-style date with minutes, no deadline
    ["TJ12345-0002", "2026/11/24 14:05", "李四", "022-23456789", "河西区梅江蓝水花园5号楼", "物业费涨价没有公示",
     "物业收费", "", "梅江街道"],
    # the same order again, exactly: a repeated row, dropped
    ["TJ12345-0001", "2026-11-25 09:30:00", "张三丰", "13812345678", "天津市河西区友谊路谊景花园3号楼2门301",
     "楼道灯坏了一个星期没人修", "物业管理-维修", "2026-11-27", "河西区友谊路街道"],
    # an address that names no estate or community of ours: unmatched
    ["TJ12345-0003", "2026-11-25 10:00:00", "王五", "", "南开区学府街某某大厦", "门口占道经营", "市容", "", "南开区"],
    # two estates named 嘉园 in the test tree below: ambiguous
    ["TJ12345-0004", "2026-11-25 11:00:00", "", "", "河西区嘉园小区门口", "垃圾清运不及时", "环境卫生", "", ""],
    # 平江社区 at community level (no estate named)
    ["TJ12345-0005", "2026-11-25 12:00:00", "赵六", "13900001111", "河西区平江社区居委会对面", "停车收费不合理",
     "停车", "2026-12-30 18:00", ""],
]


def xlsx(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
async def services(db_url):
    svc = build_services(BASE.with_(database_url=db_url), clock=fixed_clock(NOW), load_knowledge=False)
    async with svc.db.transaction() as session:
        await load_demo(session)
        ls = await session.scalar(select(Community.id).where(Community.code == "HX-MJ-LS"))
        session.add(Estate(code="HX-MJ-LS-09", name="嘉园", community_id=ls, households=100))
        fs = await session.scalar(select(Community.id).where(Community.code == "HX-MJ-FS"))
        session.add(Estate(code="HX-MJ-FS-09", name="嘉园", community_id=fs, households=100))
    yield svc
    await svc.db.dispose()


async def _import(services, data: bytes, name: str = "orders.xlsx", who: Scope = ADMIN, mapping=None):
    async with services.db.transaction() as session:
        return await service.import_file(session, services, data, name, mapping or load(), who, "staff:admin", NOW)


async def _count(services, model) -> int:
    async with services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_import_places_orders_and_reimport_changes_nothing(services):
    outcome = await _import(services, xlsx(ROWS))
    assert (outcome.rows, len(outcome.created), outcome.repeated, outcome.known) == (6, 3, 1, 0)
    assert [(line, number) for line, number, _ in outcome.unplaced] == [(5, "TJ12345-0003"), (6, "TJ12345-0004")]
    async with services.db.transaction() as session:
        orders = {o.number: o for o in await session.scalars(select(HotlineOrder))}
        tickets_ = {t.id: t for t in await session.scalars(select(Ticket))}
        names = dict((await session.execute(select(Community.id, Community.name))).all())
        estates = dict((await session.execute(select(Estate.id, Estate.name))).all())
    placed = {n: tickets_[o.ticket_id] for n, o in orders.items() if o.ticket_id}
    assert {n: (names[t.community_id], estates.get(t.estate_id)) for n, t in placed.items()} == {
        "TJ12345-0001": ("谊景社区", "谊景花园"), "TJ12345-0002": ("蓝水社区", "蓝水园"),
        "TJ12345-0005": ("平江社区", None)}
    first = placed["TJ12345-0001"]
    assert first.channel == "hotline" and first.category == "repair" and first.resident_id is None
    assert first.created_at == datetime(2026, 11, 25, 9, 30, tzinfo=LOCAL_TZ)
    assert first.resolve_due_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=LOCAL_TZ)  # the hotline's: earlier
    assert first.phone_masked == "138****5678" and "TJ12345-0001" in first.description
    later = placed["TJ12345-0005"]  # the hotline allows until 30 December: our 7 working days come first
    assert later.resolve_due_at < datetime(2026, 12, 30, 18, 0, tzinfo=LOCAL_TZ)
    assert placed["TJ12345-0002"].category == "fees" and placed["TJ12345-0005"].category == "parking"
    assert orders["TJ12345-0004"].status == "ambiguous" and len(orders["TJ12345-0004"].candidates) == 2
    assert orders["TJ12345-0003"].status == "unmatched" and orders["TJ12345-0003"].caller_name == "王五"
    before = (await _count(services, Ticket), await _count(services, HotlineOrder))
    again = await _import(services, xlsx(ROWS))
    assert (len(again.created), len(again.unplaced), again.known) == (0, 0, 5)
    assert (await _count(services, Ticket), await _count(services, HotlineOrder)) == before


async def test_bad_rows_are_reported_by_line_and_nothing_is_imported(services):
    bad = ROWS[:2] + [
        ["TJ12345-0010", "昨天下午", "某", "", "谊景花园", "内容", "", "", ""],  # line 4: an unreadable time
        ["", "2026-11-25 09:00", "某", "", "谊景花园", "内容", "", "", ""],  # line 5: no number
        ["TJ12345-0011", "2026-11-25 09:00", "某", "12", "谊景花园", "内容", "", "下周", ""],  # line 6: phone, deadline
        ["TJ12345-0001", "2026-11-25 09:30:00", "张三丰", "13812345678", "别处", "另一件事", "", "", ""],  # line 7
        ["TJ12345-0012", "2026-11-25 09:00", "某", "", "", "x" * 2001, "", "", ""],  # line 8: no address, too long
    ]
    with pytest.raises(service.HotlineFileError) as refused:
        await _import(services, xlsx(bad))
    problems = refused.value.problems
    assert [p.split("：")[0] for p in problems] == ["第 4 行", "第 5 行", "第 6 行", "第 7 行", "第 8 行"]
    assert "受理时间「昨天下午」无法识别" in problems[0] and "工单编号为空" in problems[1]
    assert "联系电话「12」不是电话号码" in problems[2] and "办理时限「下周」无法识别" in problems[2]
    assert "与第 2 行重复，但内容不同" in problems[3]
    assert "问题地址为空" in problems[4] and "诉求内容超过 2000 字" in problems[4]
    assert refused.value.status == 422
    assert await _count(services, HotlineOrder) == 0 and await _count(services, Ticket) == 0
    assert await _count(services, HotlineImport) == 0


@pytest.mark.parametrize("data, name, words", [
    (b"", "a.xlsx", "空"), (b"PK\x03\x04not really a zip", "a.xlsx", "不是有效的 Excel"),
    (b"\x00\x01binary", "a.csv", "无法识别"),
    ("工单编号,受理时间\n".encode(), "a.csv", "缺少「问题地址」、「诉求内容」列"),
    (xlsx([]), "a.xlsx", "没有工单"), (b"x", "a.pdf", ".xlsx 或 .csv"),
    (csv_bytes([["1", "2026-11-25", "", "", "谊景花园", "内容"]], HEADER[:6], "gb18030"), "a.csv", None),
])
async def test_unreadable_files_are_refused_with_a_reason(services, data, name, words):
    if words is None:  # a GBK csv as Chinese Excel saves it: read fine
        outcome = await _import(services, data, name)
        assert len(outcome.created) == 1
        return
    with pytest.raises(service.HotlineFileError) as refused:
        await _import(services, data, name)
    assert words in refused.value.problems[0]


async def test_only_the_importers_jurisdiction_matches_and_orders_are_placed_by_hand(services):
    async with services.db.transaction() as session:
        ids = dict((await session.execute(select(Community.code, Community.id))).all())
        estate = await session.scalar(select(Estate.id).where(Estate.code == "HX-MJ-LS-09"))
    street = Scope(StaffLevel.street, street_id=1, community_ids=frozenset({ids["HX-YYL-YJ"], ids["HX-YYL-PJ"]}))
    outcome = await _import(services, csv_bytes(ROWS), "orders.csv", who=street)
    # 蓝水花园 lies outside 友谊路街道: not matched there, listed to be placed
    assert sorted(n for _, n, _ in outcome.unplaced) == ["TJ12345-0002", "TJ12345-0003", "TJ12345-0004"]
    async with services.db.transaction() as session:
        waiting = await service.unplaced(session, street)
        assert [o.number for o in waiting] == ["TJ12345-0002", "TJ12345-0003", "TJ12345-0004"]
        assert await service.unplaced(session, Scope(StaffLevel.community, community_id=ids["HX-YYL-YJ"],
                                                     community_ids=frozenset({ids["HX-YYL-YJ"]}))) == []
        order = waiting[2]
        with pytest.raises(Exception) as outside:  # the candidate estate lies outside the street
            await service.place(session, services, street, order.id, None, estate, "staff:youyilu", NOW)
        assert getattr(outside.value, "status", None) == 400
    async with services.db.transaction() as session:
        ticket = await service.place(session, services, ADMIN, order.id, None, estate, "staff:admin", NOW)
        assert ticket.community_id == ids["HX-MJ-LS"] and ticket.channel == "hotline"
    async with services.db.transaction() as session:
        with pytest.raises(Exception) as twice:
            await service.place(session, services, ADMIN, order.id, ids["HX-MJ-LS"], None, "staff:admin", NOW)
        assert getattr(twice.value, "status", None) == 409


async def test_export_after_closure_then_only_what_changed(services):
    await _import(services, xlsx(ROWS))
    staff = Actor("staff", "staff:yijing", "谊景社区", "community", None, communities=None)
    async with services.db.transaction() as session:
        order = await session.scalar(select(HotlineOrder).where(HotlineOrder.number == "TJ12345-0001"))
        ticket = await session.get(Ticket, order.ticket_id)
        await tickets.perform(session, services, ticket, "sign", staff, NOW)
        await tickets.perform(session, services, ticket, "resolve", staff, NOW + timedelta(hours=2),
                              text="已更换楼道灯")
    async with services.db.transaction() as session:
        rows, count = await service.export(session, ADMIN, load(), NOW + timedelta(hours=3))
    assert count == 1 and rows == [["TJ12345-0001", "已更换楼道灯", "2026-11-26 12:00:00", ""]]
    async with services.db.transaction() as session:
        assert (await service.export(session, ADMIN, load(), NOW + timedelta(hours=4)))[1] == 0  # nothing new
        ticket = await session.get(Ticket, order.ticket_id)
        ticket.rating, ticket.rated_at = 5, NOW + timedelta(hours=5)  # the resident rated it later
    async with services.db.transaction() as session:
        rows, _ = await service.export(session, ADMIN, load(), NOW + timedelta(hours=6))
    assert rows == [["TJ12345-0001", "已更换楼道灯", "2026-11-26 12:00:00", "非常满意"]]
    data = service.export_xlsx(list(load().export_columns.values()), rows)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]] == ["工单编号", "办理结果", "办结时间", "回访满意度"]


async def test_another_citys_mapping_file(services, tmp_path):
    other = tmp_path / "beijing.yaml"
    other.write_text("""
name: 另一城市热线
columns: {number: 工单号, received_at: 派单时间, address: 事发地点, content: 反映内容, category: 类型}
time_formats: ["%Y%m%d%H%M"]
categories: {供热: repair}
export:
  columns: {number: 工单号, result: 处理结果, finished_at: 完成时间}
  time_format: "%Y%m%d"
""", encoding="utf-8")
    mapping = load(other)
    data = csv_bytes([["BJ-1", "202611250930", "友谊新城7号楼", "暖气不热", "供热"]],
                     ["工单号", "派单时间", "事发地点", "反映内容", "类型"])
    outcome = await _import(services, data, "bj.csv", mapping=mapping)
    assert len(outcome.created) == 1
    with pytest.raises(MappingError):
        parse({"columns": {"number": "x", "colour": "y"}, "categories": {"a": "nope"}}, "bad.yaml")


def test_address_matching():
    e = [matching.Place(1, "谊景社区", "友谊路街道", "河西区", 11, "谊景花园"),
         matching.Place(3, "蓝水社区", "梅江街道", "河西区", 31, "水岸嘉园"),
         matching.Place(3, "蓝水社区", "梅江街道", "河西区", 32, "嘉园"),
         matching.Place(4, "学苑社区", "学府街道", "南开区", 41, "嘉园")]
    tree = matching.Tree(e, [matching.Place(1, "谊景社区", "友谊路街道", "河西区")])
    assert tree.match("谊景园5号楼").place.estate_id == 11  # fuzzy
    assert tree.match("水岸嘉园1-101").place.estate_id == 31  # the longer name wins over 嘉园 inside it
    assert tree.match("嘉园2号楼").status == "ambiguous"
    assert tree.match("河西区嘉园2号楼").place.estate_id == 32  # the district named in the address decides
    assert tree.match("谊景社区居委会").place.estate_id is None
    assert tree.match("完全无关的地址").status == "unmatched"


def test_sheet_reader_limits():
    with pytest.raises(SheetError):
        read(b"\n\n", "a.csv")


def test_export_keeps_formula_like_text_as_text():
    data = service.export_xlsx(["工单编号", "办理结果"], [["X-1", '=HYPERLINK("http://x","点我")']])
    cell = openpyxl.load_workbook(io.BytesIO(data)).active["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
