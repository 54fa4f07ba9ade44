"""Learn the domain association table (knowledge/tables/associations.json) from the fitting knowledge bases' entries.

    .venv/bin/python bench/kb_assoc_build.py            # writes knowledge/tables/associations.json

Reads only the entry files (kb/) of bundled, terse, faq and civil, through each one's own analyzer; never a
questions file, never a held-out knowledge base. `learn_table(names)` is what bench/kb_tune.py uses to learn the
table from three of them when it measures on the fourth (leave one knowledge base out).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb_eval import FIT_SETS, SETS_DIR  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402
from knowledge.assoc import DOMAIN_TABLE, AssociationTable, entry_groups  # noqa: E402

ANSWER_SHARE = 0.5


def kb_directory(name: str) -> Path | None:
    return None if name == "bundled" else SETS_DIR / name / "kb"


def learn_table(names) -> AssociationTable:
    groups = []
    for name in names:
        kb = KnowledgeBase.load(kb_directory(name))
        groups += entry_groups(kb.entries, kb.analyzer)
    return AssociationTable.learn(groups, use_answers=True, answer_share=ANSWER_SHARE,
                                  substitutions_only=True)


def main() -> int:
    table = learn_table(FIT_SETS)
    DOMAIN_TABLE.parent.mkdir(exist_ok=True)
    DOMAIN_TABLE.write_text(table.to_json(), encoding="utf-8")
    print(f"{DOMAIN_TABLE}: {len(table.table)} source words, {sum(map(len, table.table.values()))} associations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
