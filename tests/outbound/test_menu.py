"""The account menu file: its content, WeChat's rules with Chinese messages, and pushing it to the sandbox."""
from __future__ import annotations

import pytest

from bot.menu import MenuError, build_menu, load_menu, push_menu
from bot.outbound import WeChatError


def spec(*buttons, version=1) -> dict:
    return {"version": version, "buttons": list(buttons)}


def click(name="投诉", key="COMPLAINT") -> dict:
    return {"name": name, "key": key}


def problems(menu_spec) -> list[str]:
    with pytest.raises(MenuError) as info:
        build_menu(menu_spec)
    return info.value.problems


def test_account_menu():
    menu = load_menu()
    assert [b["name"] for b in menu["button"]] == ["办事", "公示", "我的"]
    keys = {b["name"]: [(s["name"], s["key"]) for s in b["sub_button"]] for b in menu["button"]}
    assert keys == {
        "办事": [("投诉", "COMPLAINT"), ("我的投诉", "MY_TICKETS"), ("满意度调查", "SURVEY")],
        "公示": [("最新公示", "NOTICES"), ("联席会议", "MEETINGS")],
        "我的": [("绑定社区", "BIND"), ("我的信息", "MY_INFO"), ("政策问答", "ASK"), ("帮助", "HELP")],
    }
    assert all(s["type"] == "click" for b in menu["button"] for s in b["sub_button"])


async def test_push_menu_to_sandbox(client):
    menu = await push_menu(client, load_menu())
    assert (await client.get_menu())["menu"] == menu


async def test_sandbox_rejects_what_the_validator_rejects(client):
    with pytest.raises(WeChatError) as info:
        await client.create_menu({"button": [{"type": "click", "name": "社区服务中心入口", "key": "K"}]})
    assert info.value.errcode == 40018
    assert "超过 16 字节" in problems(spec(click("社区服务中心入口")))[0]


def test_rules_with_chinese_messages():
    assert "一级菜单应为 1–3 个，实际 4 个" in problems(spec(*[click(key=f"K{i}") for i in range(4)]))
    assert "一级菜单应为 1–3 个，实际 0 个" in problems(spec())
    subs = [click(key=f"K{i}") for i in range(6)]
    assert any("子菜单应为 1–5 个，实际 6 个" in p for p in problems(spec({"name": "办事", "sub_buttons": subs})))
    assert any("超过 60 字节" in p for p in problems(spec({"name": "办事", "sub_buttons": [click("很" * 21)]})))
    assert any("key 超过 128 字节" in p for p in problems(spec(click(key="K" * 129))))
    assert any("须设置 key" in p for p in problems(spec({"name": "投诉"})))
    assert any("http:// 或 https://" in p for p in problems(spec({"name": "官网", "url": "ftp://x"})))
    assert any("url 超过 1024 字节" in p for p in problems(spec({"name": "官网", "url": "https://x/" + "a" * 1020})))
    assert any("不支持" in p for p in problems(spec({"name": "扫码", "type": "scancode_push", "key": "S"})))
    assert any("version" in p for p in problems(spec(click(), version=2)))
    assert any("重复" in p for p in problems(spec(click(), {"name": "更多", "sub_buttons": [click("再投诉")]})))
    assert any("不能再设置" in p for p in problems(spec({"name": "办事", "key": "X", "sub_buttons": [click()]})))


def test_every_problem_is_reported_at_once():
    found = problems(spec(click("社区服务中心入口"), {"name": "官网", "url": "ftp://x"}, version=3))
    assert len(found) == 3
    assert str(MenuError(found)).startswith("菜单配置有误")


def test_view_buttons_and_file_errors(tmp_path):
    menu = build_menu(spec({"name": "官网", "url": "https://example.org/"}))
    assert menu == {"button": [{"type": "view", "name": "官网", "url": "https://example.org/"}]}
    bad = tmp_path / "menu.yaml"
    bad.write_text("version: 1\nbuttons: [\n", encoding="utf-8")
    with pytest.raises(MenuError, match="不是合法的 YAML"):
        load_menu(bad)
    with pytest.raises(MenuError, match="无法读取"):
        load_menu(tmp_path / "missing.yaml")
