"""`linli chat`: play a resident in the terminal against a running linli.

Lines typed are sent as signed WeChat text messages; lines starting with `/` act out what a resident does
outside typing (follow, scan a poster, press a menu button, send a photo). Messages that linli pushes to the
resident through the sandbox are shown as they arrive.
"""
from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bot.settings import Settings
from bot.simulator import SandboxUnavailable, WeChatSimulator

HELP = """可以直接输入文字和机器人对话，另有以下斜杠命令（模拟居民在微信里的其他操作）：
  /关注              模拟关注公众号
  /取关              模拟取消关注（会删除该居民的全部个人信息）
  /扫码 社区编码      模拟扫描社区海报二维码，例如 /扫码 HX-YYL-YJ
  /菜单 KEY          模拟点击菜单，例如 /菜单 HELP（KEY 见 bot/menu.yaml：COMPLAINT、MY_TICKETS、SURVEY、
                     NOTICES、MEETINGS、BIND、MY_INFO、ASK、HELP）
  /图片              模拟发送一张图片
  /语音 [识别文字]    模拟发送一段语音（可附微信语音识别出的文字）
  /位置 [地点名]      模拟发送一个位置，例如 /位置 谊景村3号楼
  /退出              结束对话"""


async def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    url = args.url or f"http://{settings.host}:{settings.port}/wechat"
    # safe mode refuses plaintext: speak as WeChat does to this deployment, encrypted whenever it must be
    aes_key = settings.wechat_aes_key if args.aes or settings.encrypt_mode == "safe" else None
    if args.aes and not aes_key:
        print("使用 --aes 需要先设置 WECHAT_AES_KEY。", file=sys.stderr)
        return 2
    _line_editing()
    sim = WeChatSimulator(url, settings.wechat_token, settings.wechat_appid, aes_key, sandbox_url=args.sandbox)
    print(f"正在以居民 {args.openid} 的身份连接 {url}\n{HELP}\n")
    seen = await _latest_push_id(sim, args.openid)
    watcher = asyncio.create_task(_watch_pushes(sim, args.openid, seen))
    try:
        if args.community:
            await _act(sim, args.openid, f"/扫码 {args.community}")
        while True:
            line = await asyncio.to_thread(_read_line)
            if line is None or line.strip() in ("/退出", "/quit"):
                break
            if line.strip():
                await _act(sim, args.openid, line.strip())
    except SandboxUnavailable as exc:
        print(f"本地微信接口沙箱没有运行（{exc.url}）。请先运行 `make run`（或另开终端运行 `linli sandbox`），"
              "或用 --sandbox 指定沙箱地址。", file=sys.stderr)
        return 1
    except aiohttp.ClientError as exc:
        print(f"无法连接 linli（{url}）：{exc}。请先运行 `make run` 或 `linli serve`。", file=sys.stderr)
        return 1
    finally:
        watcher.cancel()
        await sim.close()
    return 0


def _line_editing() -> None:
    """readline: line editing, and no 4096-byte limit of the terminal's line mode (which cut a long paste in the
    middle of a character)."""
    try:
        import readline  # noqa: F401
    except ImportError:  # pragma: no cover - not on every platform
        pass


def _read_line() -> str | None:
    try:
        return clean_input(input("居民> "))
    except EOFError:
        return None
    except UnicodeDecodeError:  # a character split by the terminal: say so instead of crashing
        print("（输入中有无法识别的字符，请重新输入）")
        return ""


def clean_input(line: str) -> str:
    """A typed or pasted line as WeChat would carry it: a character split in two by the terminal (a lone
    surrogate from surrogateescape) becomes U+FFFD instead of crashing the encoder."""
    return line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


async def _act(sim: WeChatSimulator, openid: str, line: str) -> None:
    line = clean_input(line)
    command, _, arg = line.partition(" ")
    if command == "/关注":
        response = await sim.event(openid, "subscribe")
    elif command == "/取关":
        response = await sim.event(openid, "unsubscribe")
    elif command == "/扫码":
        response = await sim.event(openid, "subscribe", f"qrscene_{arg.strip()}")
    elif command == "/菜单":
        response = await sim.event(openid, "CLICK", arg.strip())
    elif command == "/图片":
        response = await sim.image(openid)
    elif command == "/语音":
        response = await sim.voice(openid, arg.strip())
    elif command == "/位置":
        response = await sim.location(openid, label=arg.strip())
    elif command.startswith("/") and command not in ("/",):
        print(HELP)
        return
    else:
        response = await sim.text(openid, line)
    if response.status != 200:
        print(f"（linli 返回 HTTP {response.status}：{response.body}）")
    elif response.text:
        print(f"邻里> {response.text}\n")
    elif response.body.strip() == "success":
        print("（机器人没有直接回复；如有消息会稍后推送）\n")


async def _latest_push_id(sim: WeChatSimulator, openid: str) -> int:
    try:
        pushed = await sim.pushed(openid)
    except aiohttp.ClientError:
        return 0
    return max((m["id"] for m in pushed), default=0)


async def _watch_pushes(sim: WeChatSimulator, openid: str, after: int) -> None:
    while True:
        await asyncio.sleep(1.0)
        try:
            pushed = await sim.pushed(openid, after)
        except aiohttp.ClientError:
            continue
        for message in pushed:
            after = max(after, message["id"])
            print(f"\n[推送 · {message.get('kind')}] {_push_text(message)}\n居民> ", end="", flush=True)


def _push_text(message: dict) -> str:
    payload = message.get("payload", {})
    if "text" in payload:
        return payload["text"].get("content", "")
    data = payload.get("data", {})
    return "；".join(f"{k}：{v.get('value', v) if isinstance(v, dict) else v}" for k, v in data.items()) or str(payload)
