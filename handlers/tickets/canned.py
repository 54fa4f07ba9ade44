"""Canned replies per category (`canned.yaml`, or the file named by LINLI_TICKET_CANNED_FILE): the reply form's
choices in the console and the API, so frequent answers take one click and read the same everywhere."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from handlers.tickets.rules import CATEGORIES

BUNDLED = Path(__file__).with_name("canned.yaml")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, list[str]]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = [k for k in doc if k != "all" and k not in CATEGORIES]
    if unknown:
        raise ValueError(f"{path}：未知的类别 {', '.join(unknown)}")
    return {k: [str(t).strip() for t in v or [] if str(t).strip()] for k, v in doc.items()}


def replies(category: str, settings=None) -> list[str]:
    """The category's canned replies first, then the general ones."""
    path = (settings.ticket_canned_file if settings is not None else None) or str(BUNDLED)
    table = _load(path)
    return table.get(category, []) + table.get("all", [])
