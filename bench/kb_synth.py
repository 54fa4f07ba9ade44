"""Synthesises a large knowledge base (default 5,000 entries) from the bundled one, for timing.

Half of the extra entries are paraphrase variants of bundled entries (id `<base>--v<n>`, phrasings
shuffled and prefixed with a community name, extra keywords); the other half are distractors on other
community topics built from templates, so posting lists look like a real, bigger deployment.
"""
from __future__ import annotations

import random
from pathlib import Path

import yaml

from knowledge.model import Entry

COMMUNITIES = ["金泰里", "华苑", "梅江", "万科城", "丽苑", "体院北", "王顶堤", "天塔", "新立村", "中山门", "长江道", "鞍山西道"]
PLACES = ["车棚", "楼道", "地下室", "门岗", "健身器材", "垃圾站", "绿地", "路灯", "监控", "消防通道", "快递柜", "充电桩", "水箱", "化粪池"]
ACTIONS = ["坏了找谁修", "什么时候开放", "由谁负责维护", "收费标准是多少", "能不能改造", "归谁管理", "多久检查一次", "出了问题怎么报修"]
EVENTS = ["停水通知", "疫苗接种安排", "消防演练", "文明城区创建", "志愿者招募", "垃圾分类宣传", "老年食堂开餐", "便民市场开业", "防汛准备", "供暖试水"]


def synthesize(entries: list[Entry], total: int = 5000, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = [
        {"id": e.id, "title": e.title, "questions": list(e.questions), "keywords": list(e.keywords),
         "answer": e.answer, "source": e.source}
        for e in entries
    ]
    n = 0
    while len(out) < total:
        n += 1
        if n % 2:
            base = rng.choice(entries)
            phr = base.phrasings()
            rng.shuffle(phr)
            comm = rng.choice(COMMUNITIES)
            out.append({
                "id": f"{base.id}--v{n}", "title": f"{comm}：{phr[0]}", "questions": phr[1:],
                "keywords": list(base.keywords) + [comm], "answer": base.answer, "source": base.source,
            })
        else:
            comm, place = rng.choice(COMMUNITIES), rng.choice(PLACES)
            if rng.random() < 0.5:
                title = f"{comm}小区的{place}{rng.choice(ACTIONS)}？"
                qs = [f"{place}{rng.choice(ACTIONS)}", f"{comm}{place}的问题"]
            else:
                ev = rng.choice(EVENTS)
                title = f"{comm}社区{ev}是什么时候？"
                qs = [f"{ev}在哪里", f"{comm}{ev}怎么参加"]
            out.append({"id": f"distractor-{n}", "title": title, "questions": qs, "keywords": [place, comm],
                        "answer": "（合成的干扰条目）", "source": "合成"})
    return out


def write_kb(items: list[dict], directory: Path, per_file: int = 500) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(0, len(items), per_file):
        (directory / f"part{i // per_file:03d}.yaml").write_text(
            yaml.safe_dump(items[i:i + per_file], allow_unicode=True, sort_keys=False), encoding="utf-8")


def base_id(entry_id: str) -> str:
    return entry_id.split("--v", 1)[0]
