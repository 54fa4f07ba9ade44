"""The pure rules of staff in the loop: quiet hours, link codes and scenes, reading staff commands."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.delivery.staff import parse_hhmm, quiet_until
from handlers.staff import rules


def bj(hour: int, minute: int = 0, day: int = 26) -> datetime:
    """A moment given in Beijing time (UTC+8), as UTC."""
    return datetime(2026, 11, day, tzinfo=timezone.utc) + timedelta(hours=hour - 8, minutes=minute)


def test_quiet_hours_overnight_hold_until_the_morning():
    held = quiet_until(bj(23, 30), "22:00", "07:30")
    assert held is not None and held.isoformat() == "2026-11-27T07:30:00+08:00"
    early = quiet_until(bj(6, 0), "22:00", "07:30")
    assert early is not None and early.isoformat() == "2026-11-26T07:30:00+08:00"
    assert quiet_until(bj(7, 30), "22:00", "07:30") is None  # the end is not quiet
    assert quiet_until(bj(12, 0), "22:00", "07:30") is None
    assert quiet_until(bj(22, 0), "22:00", "07:30") is not None  # the start is


def test_quiet_hours_within_a_day_and_none():
    assert quiet_until(bj(12, 15), "12:00", "13:30").isoformat() == "2026-11-26T13:30:00+08:00"
    assert quiet_until(bj(14, 0), "12:00", "13:30") is None
    assert quiet_until(bj(12, 15), None, None) is None
    assert quiet_until(bj(12, 15), "12:00", "12:00") is None  # an empty span
    assert quiet_until(bj(12, 15), "25:00", "13:00") is None  # malformed: no quiet hours
    assert parse_hhmm("07:05").hour == 7 and parse_hhmm("7:05") is None and parse_hhmm("") is None


def test_codes_and_scenes():
    codes = {rules.new_code() for _ in range(50)}
    assert all(rules.is_code(c) for c in codes) and len(codes) > 40
    assert rules.is_code("１２３４５６") and not rules.is_code("12345") and not rules.is_code("1234567")
    token = rules.new_token()
    scene = rules.SCENE_PREFIX + token
    assert len(scene) <= 64 and rules.scene_token(scene) == token
    assert rules.scene_token("HX-YYL-YJ") is None  # a community poster
    assert rules.scene_token(rules.SCENE_PREFIX + "short") is None
    assert rules.scene_token(rules.SCENE_PREFIX + "x" * 20 + "<script>") is None


def test_reading_staff_commands():
    assert rules.parse_command("签收 1") == rules.Command("sign", "1", "")
    assert rules.parse_command("签收JF20261126-0001") == rules.Command("sign", "JF20261126-0001", "")
    assert rules.parse_command("回复 2 已联系物业，明天维修") == rules.Command("reply", "2", "已联系物业，明天维修")
    assert rules.parse_command("办结 3 灯已修好") == rules.Command("resolve", "3", "灯已修好")
    assert rules.parse_command("退单 jf20261126-0002 属于物业职责") == \
        rules.Command("return", "JF20261126-0002", "属于物业职责")
    assert "请写明工单序号" in rules.parse_command("签收")
    assert "回复内容" in rules.parse_command("回复 2")
    assert "办理结果" in rules.parse_command("办结 2")
    assert rules.parse_command("投诉 楼道灯坏了") is None
    assert rules.parse_command("回复我一下") is None  # no number: not a command


def test_list_numbers_pick_from_the_last_list():
    assert rules.pick("2", [11, 12, 13]) == 12
    assert rules.pick("4", [11, 12, 13]) is None and rules.pick("0", [11]) is None
    assert rules.pick("JF20261126-0001", [11]) is None
