"""Admin KB reload loads only directories under a configured root (LINLI_KB_ROOT, default data/kb; the deployment
directory; the bundled knowledge base): any other server directory is refused with 400 (page and API) or exit 1
(`linli kb reload --kb`), and nothing is reloaded."""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from handlers.policy_qa import kb_roots
from handlers.policy_qa.console import console as policy_qa_console
from knowledge.loader import BUNDLED_DIR
from storage.policy_qa_models import KbGeneration
from tests.console.conftest import build_world


def _kb_copy(directory: Path) -> Path:
    shutil.copytree(BUNDLED_DIR, directory)
    return directory


async def _generations(world) -> list:
    async with world.services.db.transaction() as session:
        return list((await session.execute(select(KbGeneration))).scalars())


async def test_reload_outside_the_root_is_refused(aiohttp_client, db_url, tmp_path):
    root = tmp_path / "kbroot"
    inside = _kb_copy(root / "v2")
    outside = _kb_copy(tmp_path / "elsewhere")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    world = await build_world(aiohttp_client, db_url, plugins=[policy_qa_console], kb_root=str(root))
    headers = world.bearer("admin")
    nul = await world.client.post("/api/v1/qa/kb/reload", headers=headers, json={"directory": "kb\x00"})
    assert nul.status == 400  # refused by the request schema's checks before the roots are even looked at
    for directory in (str(outside), "/etc", str(root / "escape"), str(root / ".." / "elsewhere")):
        resp = await world.client.post("/api/v1/qa/kb/reload", headers=headers, json={"directory": directory})
        body = await resp.json()
        assert resp.status == 400 and "只能加载以下目录之内的知识库" in body["message"], directory
        assert str(root.resolve()) in body["message"]
    csrf = await world.login("admin")
    page = await world.client.post("/console/qa/reload", data={"_csrf": csrf, "directory": str(outside)})
    assert page.status == 400 and "只能加载以下目录之内的知识库" in await page.text()
    assert await _generations(world) == []  # nothing was reloaded
    ok = await world.client.post("/api/v1/qa/kb/reload", headers=headers, json={"directory": str(inside)})
    assert ok.status == 200 and (await ok.json())["directory"] == str(inside.resolve())
    bundled = await world.client.post("/api/v1/qa/kb/reload", headers=headers, json={"directory": str(BUNDLED_DIR)})
    assert bundled.status == 200
    assert [g.generation for g in await _generations(world)] == [2]


def test_the_default_roots():
    from bot.settings import Settings

    roots = kb_roots.roots(Settings())
    assert roots[0] == Path("data/kb").resolve() and BUNDLED_DIR.resolve() in roots
    assert kb_roots.checked(None, Settings()) is None
    custom = Settings(kb_root="/srv/linli/kb", kb_dir="/srv/linli/edits")
    assert kb_roots.roots(custom)[:2] == [Path("/srv/linli/kb"), Path("/srv/linli/edits")]
    assert kb_roots.checked("/srv/linli/kb/2026", custom) == "/srv/linli/kb/2026"
