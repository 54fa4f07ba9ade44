"""Pure rules: working days with holidays and 调休, SLA settings, the transition table, permissions by level,
phone masking, one-shot intake and similarity — no server, no database."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from handlers.privacy.redact import mask
from handlers.tickets import calendar, intake, rules, sla
from handlers.tickets.rules import Actor, TicketView

CAL = calendar.calendar_for(None)


def bj(y, m, d, h=10, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=calendar.LOCAL_TZ)


def test_bundled_years_and_make_up_days():
    assert CAL.covers(2025) and CAL.covers(2026)
    assert not CAL.is_working(date(2026, 2, 16))  # 春节 (a Monday)
    assert CAL.is_working(date(2026, 2, 14))  # 调休: Saturday worked
    assert CAL.is_working(date(2026, 2, 28))
    assert not CAL.is_working(date(2026, 10, 1)) and CAL.is_working(date(2026, 10, 10))
    assert not CAL.is_working(date(2025, 10, 8)) and CAL.is_working(date(2025, 9, 28))
    assert not CAL.is_working(date(2026, 11, 28))  # an ordinary Saturday
    assert CAL.is_working(date(2027, 3, 1))  # a year without a file: Monday–Friday


def test_working_day_arithmetic():
    assert CAL.add(bj(2026, 11, 26), 1) == bj(2026, 11, 27)  # Thursday → Friday
    assert CAL.add(bj(2026, 11, 27), 1) == bj(2026, 11, 30)  # Friday → Monday
    assert CAL.add(bj(2026, 11, 28), 1) == bj(2026, 12, 1, 0)  # filed Saturday: by the end of Monday
    assert CAL.add(bj(2026, 2, 13), 1) == bj(2026, 2, 14)  # Friday → the make-up Saturday
    assert CAL.add(bj(2026, 2, 14), 1) == bj(2026, 2, 24)  # across the Spring Festival
    assert CAL.add(bj(2026, 11, 26), 7) == bj(2026, 12, 7)
    assert CAL.between(bj(2026, 11, 27), bj(2026, 11, 30)) == pytest.approx(1)  # the weekend does not count
    assert CAL.between(bj(2026, 11, 30), bj(2026, 11, 27)) == pytest.approx(-1)
    start = datetime(2026, 9, 24, 3, tzinfo=timezone.utc)
    assert CAL.between(start, CAL.add(start, 15)) == pytest.approx(15)


def test_holiday_files_are_validated():
    year, holidays, workdays = calendar.parse_year("year: 2027\nholidays: [2027-01-01, '2027-02-06..2027-02-08']\n"
                                                   "workdays: [2027-01-30]\n")
    assert year == 2027 and len(holidays) == 4 and workdays == {date(2027, 1, 30)}
    for bad, words in (("holidays: []", "year"), ("year: 2027\nholidays: ['2027-13-01']", "2027-13-01"),
                       ("year: 2027\nholidays: [2026-12-31]", "不在 2027"),
                       ("year: 2027\nholidays: [2027-01-02]\nworkdays: [2027-01-02]", "同时")):
        with pytest.raises(calendar.CalendarError, match=words):
            calendar.parse_year(bad)


def test_sla_defaults_and_settings():
    from bot.settings import Settings, SettingsError

    default = sla.from_settings(Settings())
    assert (default.sign_days, default.resolve_days) == (1, {"community": 7, "street": 15, "district": 30})
    custom = sla.from_settings(Settings().with_env({
        "LINLI_TICKET_RESOLVE_DAYS": "community:5,street:10", "LINLI_TICKET_RESOLVE_DAYS_REPAIR": "community:3",
        "LINLI_TICKET_SIGN_DAYS": "0.5"}))
    assert custom.resolve_limit("community", "repair") == 3 and custom.resolve_limit("community", "fees") == 5
    assert custom.resolve_limit("district", "fees") == 30 and custom.sign_days == 0.5
    with pytest.raises(SettingsError):  # a number the settings themselves check
        Settings().with_env({"LINLI_TICKET_SIGN_DAYS": "soon"})
    for bad in ({"LINLI_TICKET_RESOLVE_DAYS": "city:3"}, {"LINLI_TICKET_RESOLVE_DAYS_NOPE": "community:3"}):
        with pytest.raises(sla.SlaError):  # the maps, checked by the SLA against the levels and categories
            sla.from_settings(Settings().with_env(bad))


def staff(level):
    return Actor("staff", f"staff:{level}", level, level, 1)


@pytest.mark.parametrize("action,status,level,who,expected", [
    ("sign", "received", "community", "community", None),
    ("sign", "assigned", "community", "community", 409),
    ("sign", "received", "community", "street", 403),
    ("resolve", "received", "community", "community", 409),
    ("escalate", "assigned", "community", "street", None),       # 提级 from above
    ("escalate", "assigned", "district", "district", 409),       # the top
    ("return", "received", "district", "district", 409),
    ("reject", "assigned", "street", "community", 403),          # lower levels only watch
    ("note", "assigned", "street", "community", None),
    ("chase", "assigned", "community", "district", None),
    ("rate", "resolved", "community", "community", 403),         # residents rate, not staff
    ("reject", "assigned", "district", "admin", None),
])
def test_permissions(action, status, level, who, expected):
    found = rules.refusal(action, staff(who), TicketView(level, status, "ref"))
    assert (found[0] if found else None) == expected


def test_resident_permissions():
    me, other = Actor("resident", "resident", "居民", resident_ref="r1"), Actor("resident", "resident", "x",
                                                                                resident_ref="r2")
    resolved = TicketView("community", "resolved", "r1")
    assert rules.check("rate", me, resolved) is None and rules.check("rate", other, resolved)
    assert rules.check("sign", me, TicketView("community", "received", "r1"))
    assert rules.check("reopen", me, TicketView("community", "resolved", "r1", reopened=1))
    assert rules.check("escalate", me, resolved)  # only once offered
    assert rules.check("escalate", me, TicketView("community", "resolved", "r1", escalation_offered=True)) is None
    assert rules.check("supplement", me, TicketView("community", "assigned", "r1")) == "该工单没有在等待您补充"
    outside = TicketView("community", "received", "r1", in_scope=False)
    assert rules.refusal("sign", staff("community"), outside)[0] == 403


def test_phones_are_found_and_masked():
    assert rules.find_phone("电话 138 1234 5678 谢谢") == "13812345678"
    assert rules.find_phone("座机022-23456789") == "022-23456789"
    assert rules.find_phone("3号楼1201") is None
    assert rules.mask_phone("13812345678") == "138****5678" and rules.mask_phone("022-23456789") == "022-****6789"
    text = mask("找我13812345678，身份证120101199001011234")
    assert "13812345678" not in text and "138****5678" in text and "120101199001011234" not in text


@pytest.mark.parametrize("text,category,missing", [
    ("投诉 楼道灯坏了三天了", "repair", []),
    ("投诉：物业费涨价了没有公示", "fees", []),
    ("我要投诉 楼下广场舞噪音太大", "environment", []),
    ("投诉 地下车位被人占了", "parking", []),
    ("投诉 业委会换届一直拖着", "committee", []),
    ("投诉 这个事情拖了很久一直没人管", None, ["category"]),
    ("投诉 灯", None, ["category", "description"]),
])
def test_intake(text, category, missing):
    parsed = intake.parse(text)
    assert parsed.category == category and parsed.missing == missing
    assert not parsed.description.startswith("投诉")


def test_similarity():
    assert rules.is_duplicate("repair", "5号楼电梯坏了一周了没人修", "repair", "5号楼电梯坏了一周了 没人修！")
    assert not rules.is_duplicate("repair", "5号楼电梯坏了", "fees", "5号楼电梯坏了")
    assert rules.similarity("楼道灯坏了", "物业费太贵了") < 0.2


def test_the_next_step_follows_sign_then_reply_then_resolve():
    everything = ("sign", "assign", "reply", "resolve", "reject", "note")
    assert rules.next_step("received", everything, replied=False) == "sign"
    assert rules.next_step("escalated", everything, replied=False) == "sign"
    assert rules.next_step("assigned", everything, replied=False) == "reply"
    assert rules.next_step("assigned", everything, replied=True) == "resolve"
    assert rules.next_step("resolved", everything, replied=True) is None
    assert rules.next_step("received", ("note", "chase"), replied=False) is None  # supervising from above
    assert rules.replied_since_signed(["created", "sign", "reply"]) is True
    assert rules.replied_since_signed(["created", "sign", "reply", "escalate", "sign"]) is False


def test_partner_console_rules_send_back_and_phone_sharing():
    """Issue 18: a partner may ask the resident, but only on open tickets 交办 to it; the community sends a
    reported ticket back (退回承办单位) or shares the phone, only on tickets 交办 to a partner."""
    jinan = Actor("partner", "staff:jinan", "津安（承办单位）", partner="property:1")
    other = Actor("partner", "staff:haihe", "海河（承办单位）", partner="property:2")
    community = Actor("staff", "staff:yj", "谊景", "community", 1, communities=frozenset({1}))
    handed = TicketView(level="community", status="assigned", resident_ref="r", assignee_partner="property:1")
    assert rules.check("ask", jinan, handed) is None and rules.check("partner_done", jinan, handed) is None
    assert rules.check("ask", other, handed) == "该工单未交办给贵单位"
    assert rules.refusal("send_back", jinan, handed)[0] == 403  # the community's action
    assert rules.check("send_back", community, handed) == "承办单位尚未报告办结，不能退回"
    reported = TicketView(level="community", status="assigned", resident_ref="r", assignee_partner="property:1",
                          partner_reported=True)
    assert rules.check("send_back", community, reported) is None
    assert rules.check("partner_done", jinan, reported) == "已报告办结，等待社区核实"
    assert rules.check("share_phone", community, handed) is None
    unhanded = TicketView(level="community", status="assigned", resident_ref="r")
    assert rules.check("share_phone", community, unhanded) == "该工单没有交办给承办单位"
    assert rules.check("send_back", community, unhanded) == "该工单没有交办给承办单位"
    erased = TicketView(level="community", status="assigned", resident_ref="r", assignee_partner="property:1",
                        resident_gone=True)
    assert "删除个人信息" in rules.check("share_phone", community, erased)
    resolved = TicketView(level="community", status="resolved", resident_ref="r", assignee_partner="property:1")
    assert rules.check("reply", jinan, resolved) == "工单已办结，承办单位无需再办理"
    street = Actor("staff", "staff:yyl", "友谊路", "street", 2, communities=frozenset({1}))
    assert rules.refusal("send_back", street, reported)[0] == 403  # the level that handed it over
