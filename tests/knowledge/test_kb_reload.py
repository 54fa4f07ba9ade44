"""Hot reload: validate first, swap atomically, keep the old knowledge base on failure."""
from __future__ import annotations

import threading

import pytest

from knowledge import KnowledgeBase, KnowledgeBaseError, KnowledgeHolder
from tests.knowledge.kb_testutil import write


def test_reload_swaps(tiny_dir, tmp_path, kb):
    holder = KnowledgeHolder(kb)
    assert holder.current is kb
    new = holder.reload(tiny_dir)
    assert holder.current is new and len(new) == 2
    again = holder.reload()  # None: the directory loaded last
    assert again is not new and len(again) == 2


def test_reload_failure_keeps_old(tiny_dir, tmp_path):
    holder = KnowledgeHolder(directory=tiny_dir)
    old = holder.current
    bad = tmp_path / "bad"
    write(bad, "x.yaml", "- {id: x, title: 标题, source: s}\n")
    with pytest.raises(KnowledgeBaseError) as info:
        holder.reload(bad)
    assert "x.yaml 第1条（id=x）：缺少字段 answer" in info.value.problems[0]
    assert holder.current is old
    assert holder.ask("物业费怎么交").matches[0].entry.id == "fee-pay"
    assert len(holder.reload()) == 2  # the last good directory, not the bad one


def test_readers_during_reload_always_see_a_whole_kb(tiny_dir, kb):
    holder = KnowledgeHolder(kb)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                current = holder.current
                a = current.ask("物业费怎么交")
                assert a.matches and current.get(a.matches[0].entry.id) is a.matches[0].entry
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(3):
        holder.reload(tiny_dir)
    stop.set()
    for t in threads:
        t.join()
    assert not errors


async def test_reload_from_asyncio_executor(tiny_dir, kb):
    import asyncio

    holder = KnowledgeHolder(kb)
    new = await asyncio.get_running_loop().run_in_executor(None, holder.reload, tiny_dir)
    assert holder.current is new
    assert isinstance(new, KnowledgeBase)
