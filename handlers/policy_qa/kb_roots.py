"""Which directories an admin may ask every server to load a knowledge base from (console, API, `linli kb reload
--kb`): only directories under a configured root, never any directory of the server.

Roots: LINLI_KB_ROOT (default: the project's `data/kb`, where the console's edits go by default), the
deployment directory (LINLI_KB_DIR) and the bundled knowledge base. A directory is under a root when its real
path (symbolic links resolved) is the root or inside it.
"""
from __future__ import annotations

from pathlib import Path

from handlers.policy_qa import kb_store
from knowledge.loader import BUNDLED_DIR

DEFAULT_ROOT = "data/kb"


class OutsideRoot(ValueError):
    """The directory is not under any allowed root; the message (Chinese) says which are."""


def roots(settings) -> list[Path]:
    configured = (getattr(settings, "kb_root", "") or DEFAULT_ROOT) if settings is not None else DEFAULT_ROOT
    found: list[Path] = []
    for path in (Path(configured).expanduser().resolve(), kb_store.deployment_dir(settings), BUNDLED_DIR.resolve()):
        if path not in found:
            found.append(path)
    return found


def checked(directory: str | None, settings) -> str | None:
    """`directory` as its real path when it is under an allowed root (None stays None: the bundled knowledge
    base); raises OutsideRoot otherwise."""
    if directory is None:
        return None
    allowed = roots(settings)
    try:
        real = Path(directory).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, loops of links
        real = None
    if real is not None and any(real == root or root in real.parents for root in allowed):
        return str(real)
    raise OutsideRoot("只能加载以下目录之内的知识库：" + "、".join(str(r) for r in allowed)
                      + "（可用 LINLI_KB_ROOT 设置）")
