"""Organisation import (CSV/YAML → 区县/街道/社区/小区, partners, staff), the demo data, the org reads and
password hashing — on SQLite, and the main paths again on PostgreSQL."""
from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import passwords
from storage.db import create_engine, session_factory, unit_of_work
from storage.migrate import upgrade, upgrade_async
from storage.models import Community, Developer, District, Estate, PropertyCompany, Staff, StaffLevel, Street
from storage.orgimport import (
    OrgImportError,
    apply_org_plan,
    check_org_plan,
    decode_text,
    import_org_file,
    parse_org_bytes,
    parse_org_file,
    read_org_file,
)
from storage.repositories import org

HEADER = ("district_code,district,street_code,street,community_code,community,estate_code,estate,"
          "property_company_code,property_company,developer_code,developer,households")
ROW_A1 = "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-01,谊景花园,WY-JA,津安物业服务有限公司,KF-JC,津城置业发展有限公司,1286"
ROW_A2 = "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-02,友谊新城,WY-JA,,KF-JC,,764"
ROW_B1 = "HX,河西区,HX-MJ,梅江街道,HX-MJ-LS,蓝水社区,LS-01,蓝水园,WY-MJ,梅江嘉园物业服务有限公司,,,1520"
ROW_EMPTY_COMMUNITY = "HX,河西区,HX-MJ,梅江街道,HX-MJ-FS,芳水社区,,,,,,,"
GOOD_CSV = "\n".join([HEADER, ROW_A1, ROW_A2, ROW_B1, ROW_EMPTY_COMMUNITY]) + "\n"

GOOD_YAML = """\
property_companies:
  - {code: WY-JA, name: 津安物业服务有限公司}
developers:
  - code: KF-JC
    name: 津城置业发展有限公司
districts:
  - code: HX
    name: 河西区
    streets:
      - code: HX-YYL
        name: 友谊路街道
        communities:
          - code: HX-YYL-YJ
            name: 谊景社区
            estates:
              - {code: YJ-01, name: 谊景花园, property_company: WY-JA, developer: KF-JC, households: 1286}
              - {code: YJ-02, name: 友谊新城, households: 764}
          - code: HX-YYL-PJ
            name: 平江社区
      - code: HX-MJ
        name: 梅江街道
        communities:
          - {code: HX-MJ-LS, name: 蓝水社区, estates: [{code: LS-01, name: 蓝水园}]}
staff:
  - {username: admin, name: 管理员, level: admin, password: Admin-Org-Import-1}
  - {username: hexi, name: 区县账号, level: district, node: HX}
  - {username: youyilu, name: 街道账号, level: street, node: HX-YYL, password: street-pass-youyilu}
  - {username: yijing, name: 社区账号, level: community, node: HX-YYL-YJ, password: Yijing-Org-Import-1}
"""

MODELS = (District, Street, Community, Estate, PropertyCompany, Developer, Staff)


# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (running Alembic per test is slow)."""
    path = tmp_path_factory.mktemp("org-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sessions(tmp_path, migrated_template):
    shutil.copy(migrated_template, tmp_path / "t.db")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    yield session_factory(engine)
    await engine.dispose()


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


async def import_file(sessions, path: Path):
    async with unit_of_work(sessions) as session:
        return await import_org_file(session, path)


async def failed_import(sessions, path: Path) -> list[str]:
    with pytest.raises(OrgImportError) as caught:
        await import_file(sessions, path)
    return caught.value.problems


async def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every row of every org table, as plain tuples."""
    result = {}
    async with sessions() as session:
        for model in MODELS:
            columns = [c.name for c in model.__table__.columns]
            rows = (await session.execute(select(model.__table__).order_by(model.__table__.c.id))).all()
            result[model.__tablename__] = [tuple(getattr(r, c) for c in columns) for r in rows]
    return result


async def row_counts(sessions) -> dict[str, int]:
    return {name: len(rows) for name, rows in (await snapshot(sessions)).items()}


EMPTY = {m.__tablename__: 0 for m in MODELS}


def assert_problem(problems: list[str], expected: str) -> None:
    assert any(p.startswith(expected) or expected in p for p in problems), problems


# ------------------------------------------------------------------------------------------- valid imports


async def test_csv_import_builds_tree(sessions, tmp_path):
    summary = await import_file(sessions, write(tmp_path, "org.csv", GOOD_CSV))

    assert (summary.districts.created, summary.streets.created, summary.communities.created) == (1, 2, 3)
    partners = (summary.property_companies.created, summary.developers.created)
    assert (summary.estates.created, partners) == (3, (2, 1))
    assert summary.staff.created == 0
    async with sessions() as session:
        estate = (await session.execute(select(Estate).where(Estate.code == "YJ-02"))).scalar_one()
        community = await org.get_community(session, estate.community_id)
        assert (community.code, community.street.code, community.street.district.name) == (
            "HX-YYL-YJ", "HX-YYL", "河西区")
        full = await org.get_estate(session, estate.id)
        assert (full.property_company.name, full.developer.name, full.households) == (
            "津安物业服务有限公司", "津城置业发展有限公司", 764)
        lanshui = (await session.execute(select(Estate).where(Estate.code == "LS-01"))).scalar_one()
        assert lanshui.developer_id is None and lanshui.households == 1520
        fangshui = await org.community_by_code(session, "HX-MJ-FS")
        assert fangshui.street.code == "HX-MJ" and await org.list_estates(session, fangshui.id) == []


async def test_yaml_import_builds_tree_and_staff(sessions, tmp_path):
    summary = await import_file(sessions, write(tmp_path, "org.yaml", GOOD_YAML))

    assert summary.communities.created == 3 and summary.estates.created == 3 and summary.staff.created == 4
    async with sessions() as session:
        districts = await org.list_districts(session)
        assert [d.code for d in districts] == ["HX"]
        streets = await org.list_streets(session, districts[0].id)
        assert [s.name for s in streets] == ["友谊路街道", "梅江街道"]
        communities = await org.list_communities(session, streets[0].id)
        assert [c.code for c in communities] == ["HX-YYL-YJ", "HX-YYL-PJ"]
        estates = await org.list_estates(session, communities[0].id)
        assert [(e.code, e.households) for e in estates] == [("YJ-01", 1286), ("YJ-02", 764)]
        staff = {s.username: s for s in (await session.execute(select(Staff))).scalars()}
    yijing = staff["yijing"]
    assert yijing.level is StaffLevel.community
    assert (yijing.community_id, yijing.street_id, yijing.district_id) == (
        communities[0].id, streets[0].id, districts[0].id)
    assert (staff["youyilu"].community_id, staff["youyilu"].street_id) == (None, streets[0].id)
    assert (staff["hexi"].street_id, staff["hexi"].district_id) == (None, districts[0].id)
    assert (staff["admin"].level, staff["admin"].district_id) == (StaffLevel.admin, None)
    assert staff["hexi"].password_hash is None
    assert passwords.verify_password("Admin-Org-Import-1", staff["admin"].password_hash)
    assert not any(s.must_change_password for s in staff.values())  # only the demo file's accounts must
    assert passwords.verify_password("street-pass-youyilu", staff["youyilu"].password_hash)


@pytest.mark.parametrize("name,content", [("org.csv", GOOD_CSV), ("org.yml", GOOD_YAML)])
async def test_reimport_changes_nothing(sessions, tmp_path, name, content):
    path = write(tmp_path, name, content)
    first = await import_file(sessions, path)
    before = await snapshot(sessions)

    again = await import_file(sessions, path)

    assert first.changed > 0 and again.changed == 0
    assert again.estates.unchanged == first.estates.created
    assert await snapshot(sessions) == before


async def test_renamed_name_updates_in_place(sessions, tmp_path):
    await import_file(sessions, write(tmp_path, "org.csv", GOOD_CSV))
    before = await row_counts(sessions)

    renamed = GOOD_CSV.replace("蓝水社区", "蓝水园社区").replace(",1520", ",1600")
    summary = await import_file(sessions, write(tmp_path, "renamed.csv", renamed))

    assert (summary.communities.updated, summary.estates.updated) == (1, 1)
    assert sum(summary.count(k).created for k in ("districts", "streets", "communities", "estates")) == 0
    assert await row_counts(sessions) == before
    async with sessions() as session:
        community = await org.community_by_code(session, "hx-mj-ls")
        assert community.name == "蓝水园社区"
        assert (await org.list_estates(session, community.id))[0].households == 1600


async def test_empty_optional_fields_keep_database_values(sessions, tmp_path):
    await import_file(sessions, write(tmp_path, "org.csv", GOOD_CSV))
    bare = "\n".join([HEADER, "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-01,谊景花园,,,,,"])

    summary = await import_file(sessions, write(tmp_path, "bare.csv", bare))

    assert summary.changed == 0
    async with sessions() as session:
        estate = (await session.execute(select(Estate).where(Estate.code == "YJ-01"))).scalar_one()
        assert estate.property_company_id is not None and estate.households == 1286


async def test_partner_declared_only_in_database_can_be_referenced(sessions, tmp_path):
    await import_file(sessions, write(tmp_path, "org.csv", GOOD_CSV))
    row = "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,WY-MJ,,KF-JC,,412"

    summary = await import_file(sessions, write(tmp_path, "more.csv", f"{HEADER}\n{row}\n"))

    assert summary.estates.created == 1 and summary.property_companies.created == 0


async def test_staff_password_changes_only_when_file_changes_it(sessions, tmp_path):
    await import_file(sessions, write(tmp_path, "org.yaml", GOOD_YAML))
    changed = GOOD_YAML.replace("password: street-pass-youyilu", "password: new-street-pass-youyilu")

    summary = await import_file(sessions, write(tmp_path, "changed.yaml", changed))
    assert (summary.staff.updated, summary.staff.unchanged) == (1, 3)

    no_password = GOOD_YAML.replace(", password: street-pass-youyilu", "")
    summary = await import_file(sessions, write(tmp_path, "nopw.yaml", no_password))
    assert summary.staff.updated == 0
    async with sessions() as session:
        street = (await session.execute(select(Staff).where(Staff.username == "youyilu"))).scalar_one()
    assert passwords.verify_password("new-street-pass-youyilu", street.password_hash)


async def test_lowercase_codes_are_stored_uppercase(sessions, tmp_path):
    lower = GOOD_CSV.replace("HX-MJ-LS", "hx-mj-ls")
    await import_file(sessions, write(tmp_path, "org.csv", lower))
    async with sessions() as session:
        assert (await org.community_by_code(session, "HX-MJ-LS")) is not None
        assert (await org.community_by_code(session, "  hx-mj-ls ")).name == "蓝水社区"
        assert await org.community_by_code(session, "NOPE") is None
        assert await org.community_by_code(session, "") is None


async def test_yaml_scalars_stay_strings(sessions, tmp_path):
    content = """\
districts:
  - code: 0012
    name: no
    streets:
      - code: 120103
        name: 'yes'
        communities: [{code: 1e3, name: 社区, estates: [{code: 0x10, name: 小区, households: 0300}]}]
"""
    await import_file(sessions, write(tmp_path, "odd.yaml", content))
    async with sessions() as session:
        district = (await org.list_districts(session))[0]
        community = await org.community_by_code(session, "1E3")
        estate = (await org.list_estates(session, community.id))[0]
    assert (district.code, district.name, community.street.code) == ("0012", "no", "120103")
    assert (estate.code, estate.households) == ("0X10", 300)


# ------------------------------------------------------------------------------------------- encodings


async def test_gbk_csv_from_excel(sessions, tmp_path):
    content = GOOD_CSV.replace("\n", "\r\n")
    summary = await import_file(sessions, write(tmp_path, "excel.csv", content, encoding="gbk"))

    assert summary.estates.created == 3
    async with sessions() as session:
        community = await org.community_by_code(session, "HX-YYL-YJ")
    assert (community.name, community.street.name, community.street.district.name) == ("谊景社区", "友谊路街道", "河西区")


async def test_gbk_csv_bad_row_keeps_its_line(sessions, tmp_path):
    content = "\r\n".join([HEADER, ROW_A1, ROW_A2.replace(",764", ",七百")]) + "\r\n"
    problems = await failed_import(sessions, write(tmp_path, "excel.csv", content, encoding="gbk"))
    assert problems == ["第3行 households：户数“七百”必须是正整数"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
async def test_bom_csv(sessions, tmp_path, encoding):
    summary = await import_file(sessions, write(tmp_path, "bom.csv", GOOD_CSV, encoding=encoding))
    assert summary.districts.created == 1 and summary.communities.created == 3


async def test_bom_yaml(sessions, tmp_path):
    summary = await import_file(sessions, write(tmp_path, "bom.yaml", GOOD_YAML, encoding="utf-8-sig"))
    assert summary.staff.created == 4


def test_tab_separated_csv_is_accepted():
    plan = parse_org_bytes(GOOD_CSV.replace(",", "\t").encode(), "csv")
    assert plan.problems == [] and set(plan.estates) == {"YJ-01", "YJ-02", "LS-01"}


def test_undecodable_bytes_are_reported():
    assert decode_text(b"\xff\xff\xff\x80\x80") is None
    plan = parse_org_bytes(HEADER.encode() + b"\n\x81\x30\xff", "csv")
    assert "编码" in plan.problems[0]


# ------------------------------------------------------------------------------------------- bad CSV rows


CSV_CASES = {
    "missing street code": (
        "HX,河西区,,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,,,",
        "第{n}行 street_code：缺少街道编码"),
    "missing community name": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,,YJ-03,谊安里,,,,,",
        "第{n}行 community：缺少社区名称"),
    "missing estate name": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,,,,,,",
        "第{n}行 estate：缺少小区名称"),
    "bad code": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ 03,谊安里,,,,,",
        "第{n}行 estate_code：小区编码“YJ 03”格式不正确"),
    "full-width dash": (
        "HX,河西区,HX－YYL,友谊路街道,HX-YYL-YJ,谊景社区,,,,,,,",
        "第{n}行 street_code：街道编码“HX－YYL”格式不正确"),
    "district renamed within file": (
        "HX,河东区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,,,,,,,",
        "第{n}行 district：区县编码 HX 的名称“河东区”与第2行的“河西区”不一致"),
    "street under two districts": (
        "HD,河东区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,,,,,,,",
        "第{n}行 street_code：街道 HX-YYL 不能同时属于两个区县（第2行为 HX，此处为 HD）"),
    "community under two streets": (
        "HX,河西区,HX-MJ,梅江街道,HX-YYL-YJ,谊景社区,,,,,,,",
        "第{n}行 community_code：社区 HX-YYL-YJ 不能同时属于两个街道（第2行为 HX-YYL，此处为 HX-MJ）"),
    "estate under two communities": (
        "HX,河西区,HX-MJ,梅江街道,HX-MJ-LS,蓝水社区,YJ-01,谊景花园,,,,,",
        "第{n}行 estate_code：小区 YJ-01 不能同时属于两个社区"),
    "estate with conflicting households": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-01,谊景花园,,,,,1300",
        "第{n}行 households：小区 YJ-01 的 households“1300”与第2行的“1286”不一致"),
    "company renamed within file": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,WY-JA,津安物业,,,",
        "第{n}行 property_company：物业服务企业编码 WY-JA 的名称“津安物业”与第2行的“津安物业服务有限公司”不一致"),
    "unknown company": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,WY-NO,,,,",
        "第{n}行 property_company_code：物业服务企业编码 WY-NO 未在文件中定义，数据库中也没有"),
    "unknown developer": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,KF-NO,,",
        "第{n}行 developer_code：开发建设单位编码 KF-NO 未在文件中定义，数据库中也没有"),
    "company name without code": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,某物业,,,",
        "第{n}行 property_company_code：填写了物业服务企业名称“某物业”但缺少编码"),
    "zero households": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,,,0",
        "第{n}行 households：户数“0”必须是正整数"),
    "negative households": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,,,-5",
        "第{n}行 households：户数“-5”必须是正整数"),
    "fractional households": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,,,12.5",
        "第{n}行 households：户数“12.5”必须是正整数"),
    "estate fields without estate code": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,,谊安里,,,,,412",
        "第{n}行 estate_code：缺少小区编码（该行填写了 estate, households）"),
    "too many cells": (
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,,,,,412,多余",
        "第{n}行：有 14 列，多于表头的 13 列"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
async def test_bad_csv_row_reported_with_line_and_nothing_written(sessions, tmp_path, case):
    bad_row, expected = CSV_CASES[case]
    # A blank line and a quoted multi-line cell before the bad row: line numbers are physical lines.
    multiline = 'HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-02,友谊新城,,,,,"\n"'
    content = "\n".join([HEADER, ROW_A1, "", multiline, bad_row])
    lines_before_bad = content.count("\n") + 1
    problems = await failed_import(sessions, write(tmp_path, "bad.csv", content + "\n"))

    assert_problem(problems, expected.format(n=lines_before_bad))
    assert await row_counts(sessions) == EMPTY


def test_multiline_record_reports_its_first_line(tmp_path):
    content = "\n".join([HEADER, ROW_A1, "", 'HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,"谊安\n里",,,,,'])
    problems = read_org_file(write(tmp_path, "bad.csv", content)).problems
    assert problems == ["第4行 estate：小区名称“谊安\\n里”不能包含换行等控制字符"]


@pytest.mark.parametrize("header,expected", [
    (HEADER.replace("street_code,", ""), "第1行 表头：缺少必需的列 street_code"),
    (HEADER.replace("households", "household"), "第1行 表头：未知的列 household"),
    (HEADER + ",estate", "第1行 表头：列 estate 重复"),
])
async def test_bad_csv_header(sessions, tmp_path, header, expected):
    problems = await failed_import(sessions, write(tmp_path, "bad.csv", f"{header}\n{ROW_A1}\n"))
    assert_problem(problems, expected)
    assert await row_counts(sessions) == EMPTY


def test_csv_may_omit_optional_columns(tmp_path):
    header = "district_code,district,street_code,street,community_code,community,estate_code,estate"
    plan = parse_org_file(write(tmp_path, "min.csv", f"{header}\nHX,河西区,HX-YYL,友谊路街道,C1,社区,E1,小区\n"))
    assert plan.estates["E1"].parent == "C1" and plan.estates["E1"].households is None


async def test_all_problems_are_reported_together_in_line_order(sessions, tmp_path):
    content = "\n".join([
        HEADER,
        ROW_A1,
        "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,YJ-03,谊安里,WY-NO,,,,abc",
        "HX,河西区,,友谊路街道,HX-YYL-YJ,谊景社区,,,,,,,",
    ])
    problems = await failed_import(sessions, write(tmp_path, "bad.csv", content))
    # File problems first within a line, then those found against the database.
    assert problems == [
        "第3行 households：户数“abc”必须是正整数",
        "第3行 property_company_code：物业服务企业编码 WY-NO 未在文件中定义，数据库中也没有",
        "第4行 street_code：缺少街道编码",
    ]
    assert await row_counts(sessions) == EMPTY


async def test_error_message_names_file_and_count(tmp_path):
    path = write(tmp_path, "bad.csv", f"{HEADER}\nHX,河西区,,友谊路街道,C1,社区,,,,,,,\n")
    with pytest.raises(OrgImportError) as caught:
        parse_org_file(path)
    assert str(caught.value).startswith("导入文件 bad.csv 有 1 处问题，未导入任何数据：")
    assert "第2行 street_code：缺少街道编码" in str(caught.value)


@pytest.mark.parametrize("name,content,expected", [
    ("org.txt", "x", "不支持的文件类型"),
    ("empty.csv", "", "第1行：文件为空"),
    ("empty.yaml", "# nothing\n", "第1行：文件为空"),
    ("quote.csv", f'{HEADER}\nHX,"河西区\n', "CSV 格式错误"),
])
def test_unusable_files(tmp_path, name, content, expected):
    with pytest.raises(OrgImportError) as caught:
        parse_org_file(write(tmp_path, name, content))
    assert_problem(caught.value.problems, expected)


def test_missing_file_is_reported(tmp_path):
    assert "无法读取文件" in read_org_file(tmp_path / "nope.csv").problems[0]


# ------------------------------------------------------------------------------------------- bad YAML nodes


YAML_CASES = {
    "missing name": ("            name: 谊景社区\n", "", "第13行 name：缺少社区名称"),
    "bad code": ("code: HX-YYL-PJ", "code: HX YYL PJ", "第18行 code：社区编码“HX YYL PJ”格式不正确"),
    "unknown field": ("households: 764}", "househlds: 764}", "第17行 househlds：未知字段"),
    "households": ("households: 764", "households: 七百", "第17行 households：户数“七百”必须是正整数"),
    "households float": ("households: 1286", "households: 1286.0", "第16行 households：户数“1286.0”必须是正整数"),
    "community under two streets": (
        "{code: HX-MJ-LS, name: 蓝水社区,", "{code: HX-YYL-YJ, name: 谊景社区,",
        "第23行 code：社区 HX-YYL-YJ 不能同时属于两个街道（第13行为 HX-YYL，此处为 HX-MJ）"),
    "street renamed": ("code: HX-MJ\n", "code: HX-YYL\n",
                       "第21行 name：街道编码 HX-YYL 的名称“梅江街道”与第10行的“友谊路街道”不一致"),
    "unknown developer": ("developer: KF-JC", "developer: KF-NO",
                          "第16行 developer：开发建设单位编码 KF-NO 未在文件中定义，数据库中也没有"),
    "unknown company": ("property_company: WY-JA", "property_company: WY-NO",
                        "第16行 property_company：物业服务企业编码 WY-NO 未在文件中定义，数据库中也没有"),
    "company without name": ("{code: WY-JA, name: 津安物业服务有限公司}", "{code: WY-JA}",
                             "第2行 name：缺少物业服务企业名称"),
    "streets not a list": ("    streets:\n", "    streets: 友谊路\n    extra:\n", "第9行 streets：应为列表"),
    "duplicate key": ("    name: 河西区\n", "    name: 河西区\n    name: 河西\n", "第9行 name：字段重复（第8行已填写）"),
    "syntax error": ("    name: 河西区\n", "    name: [河西区\n", "YAML 格式错误"),
    "unknown top-level key": ("developers:\n", "developer:\n", "第3行 developer：未知字段（文件顶层可用字段"),
    "staff bad level": ("level: district", "level: boss", "第26行 level：级别“boss”不正确"),
    "staff unknown node": ("node: HX-YYL-YJ", "node: HX-YYL-XX",
                           "第28行 node：社区编码 HX-YYL-XX 未在文件中定义，数据库中也没有"),
    "staff missing node": (", node: HX-YYL,", ",", "第27行 node：缺少街道编码"),
    "admin with node": ("level: admin,", "level: admin, node: HX,", "第25行 node：管理员账号不属于任何节点"),
    "short password": ("password: street-pass-youyilu", "password: 1234567", "第27行 password：密码至少 12 位"),
    "common password": ("password: street-pass-youyilu", "password: 1qaz2wsx3edc",
                        "第27行 password：这个密码太常见"),
    "demo password": ("password: street-pass-youyilu", "password: linli-demo", "第27行 password：密码至少 12 位"),
    "duplicate username": ("username: hexi", "username: admin", "第26行 username：账号 admin 重复（第25行已定义）"),
    "bad username": ("username: hexi", "username: 河西", "第26行 username：用户名“河西”格式不正确"),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
async def test_bad_yaml_node_reported_with_line_and_nothing_written(sessions, tmp_path, case):
    old, new, expected = YAML_CASES[case]
    assert old in GOOD_YAML
    problems = await failed_import(sessions, write(tmp_path, "bad.yaml", GOOD_YAML.replace(old, new, 1)))

    assert_problem(problems, expected)
    assert await row_counts(sessions) == EMPTY


# ------------------------------------------------------------------------------------------- database conflicts


DB_CONFLICTS = {
    "street under another district": (
        "HD,河东区,HX-YYL,友谊路街道,HD-X,某社区,,,,,,,",
        "第3行 street_code：街道 HX-YYL 在数据库中属于区县 HX，不能改为属于 HD"),
    "community under another street": (
        "HX,河西区,HX-MJ,梅江街道,HX-YYL-YJ,谊景社区,,,,,,,",
        "第3行 community_code：社区 HX-YYL-YJ 在数据库中属于街道 HX-YYL，不能改为属于 HX-MJ"),
    "estate under another community": (
        "HX,河西区,HX-MJ,梅江街道,HX-MJ-LS,蓝水社区,HX-YYL-YJ-01,谊景花园,,,,,",
        "第3行 estate_code：小区 HX-YYL-YJ-01 在数据库中属于社区 HX-YYL-YJ，不能改为属于 HX-MJ-LS"),
}


@pytest.mark.parametrize("case", list(DB_CONFLICTS))
async def test_conflict_with_database_leaves_it_unchanged(sessions, tmp_path, case):
    async with unit_of_work(sessions) as session:
        await org.load_demo(session)
    before = await snapshot(sessions)
    bad_row, expected = DB_CONFLICTS[case]
    # Line 2 alone would be valid and new: it must not be written either.
    content = "\n".join([HEADER, "HQ,和平区,HQ-NM,南市街道,HQ-NM-1,新社区,HQ-E1,新小区,,,,,100", bad_row])

    problems = await failed_import(sessions, write(tmp_path, "bad.csv", content))

    assert problems == [expected]
    assert await snapshot(sessions) == before


async def test_check_org_plan_reports_without_writing(sessions, tmp_path):
    async with unit_of_work(sessions) as session:
        await org.load_demo(session)
    plan = read_org_file(write(tmp_path, "x.csv", f"{HEADER}\nHD,河东区,HX-YYL,友谊路街道,C9,社区,,,,,,,\n"))
    async with sessions() as session:
        problems = await check_org_plan(session, plan)
    assert problems == ["第2行 street_code：街道 HX-YYL 在数据库中属于区县 HX，不能改为属于 HD"]


async def test_apply_refuses_a_plan_with_file_problems(sessions, tmp_path):
    plan = read_org_file(write(tmp_path, "x.csv", f"{HEADER}\n{ROW_A1}\nHX,河西区,HX-YYL,友谊路街道,C1,,,,,,,,\n"))
    assert plan.problems and plan.estates
    with pytest.raises(OrgImportError):
        async with unit_of_work(sessions) as session:
            await apply_org_plan(session, plan)
    assert await row_counts(sessions) == EMPTY


# ------------------------------------------------------------------------------------------- demo data


async def test_demo_load(sessions):
    async with unit_of_work(sessions) as session:
        summary = await org.load_demo(session)
    assert (summary.districts.created, summary.streets.created, summary.communities.created) == (1, 2, 4)
    assert summary.staff.created == 12  # admin, district, street, two per community (four eyes), a property company's

    async with sessions() as session:
        districts = await org.list_districts(session)
        assert [d.name for d in districts] == ["河西区"]
        streets = await org.list_streets(session, districts[0].id)
        assert len(streets) == 2
        for street in streets:
            communities = await org.list_communities(session, street.id)
            assert len(communities) == 2
            for community in communities:
                estates = await org.list_estates(session, community.id)
                assert 2 <= len(estates) <= 3
                assert all(e.households and e.property_company_id and e.developer_id for e in estates)
        staff = list((await session.execute(select(Staff).order_by(Staff.id))).scalars())
    assert {s.level for s in staff} == set(StaffLevel)
    assert all(passwords.verify_password("linli-demo", s.password_hash) for s in staff)
    assert all(s.must_change_password for s in staff)  # published password: changed at first login
    assert "admin" in {s.username for s in staff}
    per_community: dict[int, int] = {}
    for s in staff:
        if s.level is StaffLevel.community and s.partner is None:
            per_community[s.community_id] = per_community.get(s.community_id, 0) + 1
    assert sorted(per_community.values()) == [2, 2, 2, 2]  # a second person to approve in every community
    assert [(s.username, s.partner is not None, s.community_id) for s in staff if s.partner] == [
        ("jinanwuye", True, None)]  # a property company's account: no community

    async with unit_of_work(sessions) as session:
        assert (await org.load_demo(session)).changed == 0


def test_demo_file_parses_cleanly():
    plan = parse_org_file(org.DEMO_FILE, demo=True)
    assert len(plan.communities) == 4 and all(code.startswith("HX-") for code in plan.communities)
    with pytest.raises(OrgImportError) as refused:  # as an ordinary import its published password is refused
        parse_org_file(org.DEMO_FILE)
    assert all("password" in problem for problem in refused.value.problems)


# ------------------------------------------------------------------------------------------- passwords


@pytest.mark.real_password_cost
def test_password_round_trip():
    stored = passwords.hash_password("linli-demo")
    assert stored.startswith("scrypt$16384$8$1$")
    assert passwords.verify_password("linli-demo", stored)
    assert not passwords.verify_password("linli-demo ", stored)
    assert not passwords.verify_password("", stored)
    assert passwords.hash_password("linli-demo") != stored  # fresh salt
    assert not passwords.needs_rehash(stored)


@pytest.mark.real_password_cost
def test_password_with_unicode():
    stored = passwords.hash_password("邻里密码2024")
    assert passwords.verify_password("邻里密码2024", stored)


@pytest.mark.real_password_cost
@pytest.mark.parametrize("stored", [
    None, "", "plain", "scrypt$16384$8$1$AAAA", "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
    "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$16384$8$1$!!!$AAAA",
])
def test_malformed_hashes_never_verify(stored):
    assert not passwords.verify_password("linli-demo", stored)
    assert passwords.needs_rehash(stored)


@pytest.mark.real_password_cost
def test_tampered_hash_fails():
    stored = passwords.hash_password("linli-demo")
    head, key = stored.rsplit("$", 1)
    flipped = ("B" if key[0] == "A" else "A") + key[1:]
    assert not passwords.verify_password("linli-demo", f"{head}${flipped}")


@pytest.mark.real_password_cost
def test_weaker_parameters_verify_but_need_rehash(monkeypatch):
    monkeypatch.setattr(passwords, "N", 2**12)
    weak = passwords.hash_password("linli-demo")
    monkeypatch.undo()
    assert passwords.verify_password("linli-demo", weak)
    assert passwords.needs_rehash(weak)


def test_empty_password_is_refused():
    with pytest.raises(ValueError):
        passwords.hash_password("")


def test_hashing_is_reasonably_fast():
    start = time.perf_counter()
    passwords.hash_password("linli-demo")
    assert time.perf_counter() - start < 1.0  # ~50 ms normally; generous for loaded CI machines


# ------------------------------------------------------------------------------------------- PostgreSQL


PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def pg_sessions():
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"linli_org_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as conn:
            await asyncio.wait_for(conn.execute(text(f'CREATE DATABASE "{name}"')), 10)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        await admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc!r}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = None
    try:
        await upgrade_async(url)
        engine = create_engine(url)
        yield session_factory(engine)
    finally:
        if engine is not None:
            await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_postgres_import_reimport_and_conflict(pg_sessions, tmp_path):
    summary = await import_file(pg_sessions, write(tmp_path, "org.csv", GOOD_CSV, encoding="gbk"))
    assert summary.estates.created == 3
    summary = await import_file(pg_sessions, write(tmp_path, "org.yaml", GOOD_YAML))
    assert (summary.communities.created, summary.estates.unchanged, summary.staff.created) == (1, 3, 4)
    before = await snapshot(pg_sessions)

    assert (await import_file(pg_sessions, write(tmp_path, "org.yaml", GOOD_YAML))).changed == 0
    assert (await import_file(pg_sessions, write(tmp_path, "org.csv", GOOD_CSV))).changed == 0
    assert await snapshot(pg_sessions) == before

    conflict = "\n".join([HEADER, "HQ,和平区,HQ-NM,南市街道,HQ-NM-1,新社区,,,,,,,",
                          "HD,河东区,HX-YYL,友谊路街道,HD-X,某社区,,,,,,,"])
    problems = await failed_import(pg_sessions, write(tmp_path, "bad.csv", conflict))
    assert problems == ["第3行 street_code：街道 HX-YYL 在数据库中属于区县 HX，不能改为属于 HD"]
    assert await snapshot(pg_sessions) == before
    async with pg_sessions() as session:
        community = await org.community_by_code(session, "HX-YYL-YJ")
        assert (community.street.code, community.street.district.code) == ("HX-YYL", "HX")


async def test_postgres_demo_load(pg_sessions):
    async with unit_of_work(pg_sessions) as session:
        demo = await org.load_demo(session)
    assert (demo.communities.created, demo.estates.created, demo.staff.created) == (4, 10, 12)
    async with unit_of_work(pg_sessions) as session:
        assert (await org.load_demo(session)).changed == 0
    async with pg_sessions() as session:
        community = await org.community_by_code(session, "HX-YYL-YJ")
        assert [e.code for e in await org.list_estates(session, community.id)][0] == "HX-YYL-YJ-01"
