"""Helpers for the knowledge-base tests."""
from __future__ import annotations

import textwrap
from pathlib import Path


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
