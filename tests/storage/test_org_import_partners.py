"""Partner organisations' accounts (承办单位) declared in the organisation import's YAML `staff` list with
`partner: CODE` (a property company's or developer's code, or dept:名称): created like `linli staff create
--partner`, passwords handled as for staff, bad rows reported by line with nothing imported; on SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import passwords
from storage.models import Developer, PropertyCompany, Staff, StaffLevel
from tests.storage import test_org_import as base
from tests.storage.test_org_import import GOOD_YAML, failed_import, import_file, snapshot, write

# the organisation import tests' fixtures: a migrated SQLite copy per test, a fresh PostgreSQL database
migrated_template, sessions, pg_sessions = base.migrated_template, base.sessions, base.pg_sessions

PARTNERS = GOOD_YAML + """\
  - {username: jinan, name: 津安物业客服, partner: WY-JA, password: Jinan-Partner-Pass-1}
  - {username: jcdev, name: 津城置业, partner: kf-jc}
  - {username: cgw, name: 城管委, partner: "dept:河西区城管委", password: Cgw-Partner-Pass-1}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    return request.getfixturevalue("sessions" if request.param == "sqlite" else "pg_sessions")


async def test_partner_accounts_are_imported_and_reimport_changes_nothing(db, tmp_path):
    summary = await import_file(db, write(tmp_path, "org.yaml", PARTNERS))
    assert summary.staff.created == 7
    async with db() as session:
        staff = {s.username: s for s in (await session.execute(select(Staff))).scalars()}
        company = (await session.execute(select(PropertyCompany).where(PropertyCompany.code == "WY-JA"))).scalar_one()
        developer = (await session.execute(select(Developer).where(Developer.code == "KF-JC"))).scalar_one()
    jinan, dev, dept = staff["jinan"], staff["jcdev"], staff["cgw"]
    assert (jinan.partner, dev.partner, dept.partner) == (
        f"property:{company.id}", f"developer:{developer.id}", "dept:河西区城管委")
    for account in (jinan, dev, dept):
        assert account.level is StaffLevel.community and account.display_name
        assert (account.community_id, account.street_id, account.district_id) == (None, None, None)
    assert passwords.verify_password("Jinan-Partner-Pass-1", jinan.password_hash)
    assert dev.password_hash is None  # like staff: no password, no login until one is set
    assert staff["yijing"].partner is None
    before = await snapshot(db)
    again = await import_file(db, write(tmp_path, "org.yaml", PARTNERS))
    assert again.changed == 0 and await snapshot(db) == before
    renamed = await import_file(db, write(tmp_path, "renamed.yaml", PARTNERS.replace("津安物业客服", "津安物业")))
    assert (renamed.staff.updated, renamed.staff.unchanged) == (1, 6)


BAD = [
    ("  - {username: x1, name: 甲, partner: WY-NO}\n", "第32行 partner：承办单位编码 WY-NO 不是文件中或数据库中的物业服务企业、开发建设单位"),
    ("  - {username: x1, name: 甲, partner: WY-JA, level: street, node: HX-YYL}\n",
     "第32行 level：承办单位账号没有级别和所属节点，不应填写 level、node"),
    ("  - {username: x1, name: 甲, partner: 津安 物业}\n",
     "第32行 partner：承办单位“津安 物业”应为物业服务企业或开发建设单位的编码，或“dept:部门名称”"),
    ("  - {username: x1, name: 甲, partner: ''}\n", "第32行 partner：承办单位“”应为物业服务企业或开发建设单位的编码"),
    ('  - {username: x1, name: 甲, partner: "dept:"}\n', "第32行 partner：部门名称“”应为 1–60 个字"),
    ("  - {username: x1, name: 甲, partner: WY-JA, password: short}\n", "第32行 password："),
    ("  - {username: jinan, name: 甲, partner: WY-JA}\n", "第32行 username：账号 jinan 重复"),
]


@pytest.mark.parametrize("row,expected", BAD)
async def test_bad_partner_rows_are_reported_by_line_and_nothing_is_imported(sessions, tmp_path, row, expected):
    content = PARTNERS + row
    assert content.splitlines()[31] == row.rstrip("\n")
    problems = await failed_import(sessions, write(tmp_path, "bad.yaml", content))
    assert any(p.startswith(expected) for p in problems), problems
    assert (await snapshot(sessions))["staff"] == [] and (await snapshot(sessions))["districts"] == []


async def test_an_account_keeps_its_kind(sessions, tmp_path):
    await import_file(sessions, write(tmp_path, "org.yaml", PARTNERS))
    before = await snapshot(sessions)
    to_partner = PARTNERS.replace("{username: hexi, name: 区县账号, level: district, node: HX}",
                                  "{username: hexi, name: 区县账号, partner: WY-JA}")
    problems = await failed_import(sessions, write(tmp_path, "a.yaml", to_partner))
    assert problems == ["第26行 username：账号 hexi 在数据库中是工作人员账号，不能改为承办单位账号"]
    to_staff = PARTNERS.replace("{username: jcdev, name: 津城置业, partner: kf-jc}",
                                "{username: jcdev, name: 津城置业, level: district, node: HX}")
    problems = await failed_import(sessions, write(tmp_path, "b.yaml", to_staff))
    assert problems == ["第30行 username：账号 jcdev 在数据库中是承办单位账号，不能改为工作人员账号"]
    assert await snapshot(sessions) == before
