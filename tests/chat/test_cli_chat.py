"""`linli chat` against a running linli and sandbox: slash commands in --help, voice / image / location sent as
WeChat sends them, a long paste with a split character, re-running the README command, the sandbox down."""
from __future__ import annotations

import argparse
import asyncio
import socket

import pytest

from bot import chat
from bot.cli import build_parser
from tests.support import BASE

SLASH = ("/关注", "/取关", "/扫码", "/菜单", "/图片", "/语音", "/位置", "/退出")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _args(bot, **kw) -> argparse.Namespace:
    values = {"url": bot.sim.url, "openid": "o_cli", "community": None, "sandbox": bot.sim.sandbox_url, "aes": False}
    return argparse.Namespace(**{**values, **kw})


async def _run(bot, monkeypatch, lines: list[str], **kw) -> int:
    """`linli chat` with `lines` typed at its prompt (then end of input)."""
    typed = iter(lines)
    monkeypatch.setattr(chat, "_read_line", lambda: next(typed, None))
    monkeypatch.setattr(chat, "_line_editing", lambda: None)
    return await chat.run_chat(BASE, _args(bot, **kw))


def test_help_lists_every_slash_command(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["chat", "--help"])
    shown = capsys.readouterr().out
    for command in SLASH:
        assert command in shown, command


async def test_voice_image_and_location_go_through_the_sandbox_as_wechat_sends_them(bot, monkeypatch, capsys):
    assert await _run(bot, monkeypatch, ["/语音", "/图片", "/位置 谊景村3号楼", "/语音 你好"]) == 0
    out = capsys.readouterr().out
    assert "暂时无法处理图片消息" in out and "暂时无法处理位置消息" in out
    # a voice is never refused: unheard it goes to staff, heard (WeChat's recognition) it is text
    assert "暂时无法处理语音消息" not in out and "没能把这段语音转成文字，已转给" in out and "您说的是：「你好」" in out


async def test_a_long_paste_with_a_split_character_does_not_crash(bot, monkeypatch, capsys):
    pasted = "楼道灯坏了" * 900 + "\udce6\udcb5"  # the terminal cut the last character in two
    assert await _run(bot, monkeypatch, [pasted, "帮助"]) == 0
    out = capsys.readouterr().out
    assert "您可以直接发送以下文字" in out and "Traceback" not in out
    assert chat.clean_input("好\udce6") == "好\ufffd"


async def test_running_the_readme_command_again_keeps_the_binding(bot, monkeypatch, capsys):
    first = ["1", "1", "跳过", "确认"]  # estate, owner, no room, confirm
    assert await _run(bot, monkeypatch, first, community="HX-YYL-YJ") == 0
    assert "绑定成功" in capsys.readouterr().out
    await asyncio.sleep(1.1)  # a later run: WeChat dates events by the second, and the same second is a retry
    assert await _run(bot, monkeypatch, ["我的信息"], community="HX-YYL-YJ") == 0
    again = capsys.readouterr().out
    assert "无需重新绑定" in again and "请选择您居住的小区" not in again and "所在社区" in again


async def test_sandbox_down_is_named_as_such(bot, monkeypatch, capsys):
    down = f"http://127.0.0.1:{_free_port()}"
    assert await _run(bot, monkeypatch, ["你好"], sandbox=down) == 1
    err = capsys.readouterr().err
    assert "沙箱没有运行" in err and down in err and "无法连接 linli" not in err
    linli_down = f"http://127.0.0.1:{_free_port()}/wechat"
    assert await _run(bot, monkeypatch, ["你好"], url=linli_down) == 1
    assert "无法连接 linli" in capsys.readouterr().err
