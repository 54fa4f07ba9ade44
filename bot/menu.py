"""The account's custom menu: a versioned YAML file (`bot/menu.yaml`), checked against WeChat's rules with
Chinese messages, turned into the JSON body of `menu/create`, and pushed through the outbound client.

File format (version 1): `buttons`, each with `name` and either `sub_buttons` or an action; an action is `key`
(click) or `url` (view); `type` may be given explicitly (click / view). Every problem is reported at once.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from bot.outbound import WeChatClient

DEFAULT_PATH = Path(__file__).with_name("menu.yaml")
SUPPORTED_VERSIONS = (1,)
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES, URL_BYTES = 16, 60, 128, 1024
TYPES = ("click", "view")


class MenuError(ValueError):
    """The menu file breaks WeChat's rules; `problems` lists each in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("菜单配置有误：\n" + "\n".join(f"  - {p}" for p in problems))


def load_menu(path: str | Path | None = None) -> dict:
    """Read and validate the menu file; return the JSON body for `menu/create` (`{"button": [...]}`)."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MenuError([f"无法读取菜单文件 {path}：{exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise MenuError([f"菜单文件 {path} 不是合法的 YAML：{exc}"]) from None
    return build_menu(spec)


def build_menu(spec: Any) -> dict:
    """Validate a parsed menu spec and convert it; raises MenuError listing every problem."""
    problems: list[str] = []
    if not isinstance(spec, dict):
        raise MenuError(["菜单文件顶层应为映射（含 version 与 buttons）"])
    if spec.get("version") not in SUPPORTED_VERSIONS:
        problems.append(f"version 应为 {' / '.join(map(str, SUPPORTED_VERSIONS))}，实际为 {spec.get('version')!r}")
    buttons = spec.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP:
        count = len(buttons) if isinstance(buttons, list) else 0
        raise MenuError(problems + [f"一级菜单应为 1–{MAX_TOP} 个，实际 {count} 个"])
    menu = {"button": [_top(i, b, problems) for i, b in enumerate(buttons, 1)]}
    keys = [sub.get("key") for top in menu["button"] for sub in [top, *top.get("sub_button", [])] if sub.get("key")]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"key「{key}」重复出现；每个点击菜单的 key 应唯一")
    if problems:
        raise MenuError(problems)
    return menu


def _top(index: int, button: Any, problems: list[str]) -> dict:
    where = f"第 {index} 个一级菜单"
    if not isinstance(button, dict) or button.get("sub_buttons") is None:
        return _leaf(button, where, TOP_NAME_BYTES, problems)
    name = _name(button, where, TOP_NAME_BYTES, problems)
    where = f"{where}「{name}」"
    subs = button["sub_buttons"]
    if any(k in button for k in ("key", "url", "type")):
        problems.append(f"{where}有子菜单时不能再设置 type / key / url")
    if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
        count = len(subs) if isinstance(subs, list) else 0
        problems.append(f"{where}的子菜单应为 1–{MAX_SUB} 个，实际 {count} 个")
        return {"name": name, "sub_button": []}
    return {"name": name, "sub_button": [_leaf(s, f"{where}的第 {j} 个子菜单", SUB_NAME_BYTES, problems)
                                         for j, s in enumerate(subs, 1)]}


def _name(button: dict, where: str, limit: int, problems: list[str]) -> str:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}缺少名称 name")
        return ""
    size = len(name.encode("utf-8"))
    if size > limit:
        problems.append(f"{where}名称「{name}」为 {size} 字节，超过 {limit} 字节上限（UTF-8 下一个汉字占 3 字节）")
    return name


def _leaf(button: Any, where: str, name_limit: int, problems: list[str]) -> dict:
    if not isinstance(button, dict):
        problems.append(f"{where}应为映射")
        return {}
    name = _name(button, where, name_limit, problems)
    kind = button.get("type") or ("view" if "url" in button else "click")
    if kind not in TYPES:
        problems.append(f"{where}「{name}」的类型 {kind!r} 不支持，应为 click（点击）或 view（网页）")
        return {"type": kind, "name": name}
    if kind == "click":
        return {"type": "click", "name": name, "key": _key(button, f"{where}「{name}」", problems)}
    return {"type": "view", "name": name, "url": _url(button, f"{where}「{name}」", problems)}


def _key(button: dict, where: str, problems: list[str]) -> str:
    key = button.get("key")
    if not isinstance(key, str) or not key:
        problems.append(f"{where}是点击菜单，须设置 key")
        return ""
    if len(key.encode("utf-8")) > KEY_BYTES:
        problems.append(f"{where}的 key 超过 {KEY_BYTES} 字节")
    return key


def _url(button: dict, where: str, problems: list[str]) -> str:
    url = button.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        problems.append(f"{where}是网页菜单，url 须以 http:// 或 https:// 开头")
        return str(url or "")
    if len(url.encode("utf-8")) > URL_BYTES:
        problems.append(f"{where}的 url 超过 {URL_BYTES} 字节")
    return url


async def push_menu(client: "WeChatClient", menu: dict | None = None) -> dict:
    """Create the menu on WeChat (`menu/create`); `menu` defaults to the validated `bot/menu.yaml`."""
    menu = menu if menu is not None else load_menu()
    await client.create_menu(menu)
    return menu
