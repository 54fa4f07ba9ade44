"""Canned texts per category (`canned.yaml`, or the file named by LINLI_TICKET_CANNED_FILE): the reply form's
choices (top-level keys) and the 办结 form's resolution texts (under `resolve:`), in the console and the API, so
frequent answers take one click and read the same everywhere. A reply says what is being done; a resolution says
what was done, so the two lists are kept apart."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from handlers.tickets.rules import CATEGORIES

BUNDLED = Path(__file__).with_name("canned.yaml")
RESOLVE_KEY = "resolve"


def _texts(doc: dict, path: str) -> dict[str, list[str]]:
    unknown = [k for k in doc if k != "all" and k not in CATEGORIES]
    if unknown:
        raise ValueError(f"{path}：未知的类别 {', '.join(unknown)}")
    return {k: [str(t).strip() for t in v or [] if str(t).strip()] for k, v in doc.items()}


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    resolve = doc.pop(RESOLVE_KEY, None) or {}
    if not isinstance(resolve, dict):
        raise ValueError(f"{path}：{RESOLVE_KEY} 应按类别分组")
    return _texts(doc, path), _texts(resolve, path)


def _table(settings, which: int) -> dict[str, list[str]]:
    path = (settings.ticket_canned_file if settings is not None else None) or str(BUNDLED)
    return _load(path)[which]


def replies(category: str, settings=None) -> list[str]:
    """The category's canned replies first, then the general ones."""
    table = _table(settings, 0)
    return table.get(category, []) + table.get("all", [])


def resolutions(category: str, settings=None) -> list[str]:
    """The category's resolution texts (办理结果) first, then the general ones."""
    table = _table(settings, 1)
    return table.get(category, []) + table.get("all", [])
