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
from bot.simulator import WeChatSimulator

HELP = """可以直接输入文字和机器人对话，另有以下操作：
  /关注            模拟关注公众号          /取关        模拟取消关注
  /扫码 社区编码    模拟扫描社区海报二维码   /菜单 KEY    模拟点击菜单（如 COMPLAINT、MY_INFO、HELP）
  /图片            模拟发送一张图片         /退出        结束对话"""


async def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    url = args.url or f"http://{settings.host}:{settings.port}/wechat"
    # safe mode refuses plaintext: speak as WeChat does to this deployment, encrypted whenever it must be
    aes_key = settings.wechat_aes_key if args.aes or settings.encrypt_mode == "safe" else None
    if args.aes and not aes_key:
        print("使用 --aes 需要先设置 WECHAT_AES_KEY。", file=sys.stderr)
        return 2
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
    except aiohttp.ClientError as exc:
        print(f"无法连接 linli（{url}）：{exc}。请先运行 `make run` 或 `linli serve`。", file=sys.stderr)
        return 1
    finally:
        watcher.cancel()
        await sim.close()
    return 0


def _read_line() -> str | None:
    try:
        return input("居民> ")
    except EOFError:
        return None


async def _act(sim: WeChatSimulator, openid: str, line: str) -> None:
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
