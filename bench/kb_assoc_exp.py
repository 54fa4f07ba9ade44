"""Issue 17, third pass: ranking experiments (associations, character n-gram fusion) on the fitting sets only.

    .venv/bin/python bench/kb_assoc_exp.py

For each fitting knowledge base (bundled, terse, faq, civil; never a held-out one) and each variant, top-1 / top-3
of the raw ranking over the in-scope questions. The domain association table is learned leave-one-knowledge-base-
out: from the entry files (kb/) of the three other fitting knowledge bases, never from any questions file.
"""
from __future__ import annotations

import math
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dataclasses import replace  # noqa: E402

from kb_eval import FIT_SETS, load_set  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402
from knowledge.assoc import AssociationTable, EntryAssociations  # noqa: E402
from knowledge.matcher import MatchPolicy  # noqa: E402

# --- character n-gram (2-3) TF-IDF cosine over the phrasings (variant 2, not adopted) ---
_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff0-9a-z]+")


def char_grams(segments) -> Counter:
    c: Counter = Counter()
    for seg in segments:
        for run in _CJK_RUN_RE.findall(seg):
            for n in (2, 3):
                for i in range(len(run) - n + 1):
                    c[run[i:i + n]] += 1
    return c


class CharGrams:
    def __init__(self, entries, analyzer) -> None:
        self.analyzer = analyzer
        bags = []
        owner = []
        for doc_id, e in enumerate(entries):
            for p in e.phrasings():
                bags.append(char_grams(analyzer.normalize(p)))
                owner.append(doc_id)
        df: Counter = Counter()
        for b in bags:
            df.update(b.keys())
        n = len(bags)
        self.idf = {g: math.log(1.0 + n / f) for g, f in df.items()}
        self.oov = math.log(1.0 + n)
        self.phrasings: list[list[dict[str, float]]] = [[] for _ in entries]
        for b, d in zip(bags, owner):
            v = {g: (1 + math.log(tf)) * self.idf[g] for g, tf in b.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            self.phrasings[d].append({g: x / norm for g, x in v.items()})

    def vector(self, text: str) -> dict[str, float]:
        b = char_grams(self.analyzer.normalize(text))
        v = {g: (1 + math.log(tf)) * self.idf.get(g, self.oov) for g, tf in b.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {g: x / norm for g, x in v.items()}

    def scores(self, text: str, docs) -> list[float]:
        q = self.vector(text)
        out = []
        for d in docs:
            best = 0.0
            for v in self.phrasings[d]:
                s = 0.0
                for g, x in q.items():
                    y = v.get(g)
                    if y is not None:
                        s += x * y
                if s > best:
                    best = s
            out.append(best)
        return out


def kb_groups(kb: KnowledgeBase, with_answers: bool) -> list[tuple[list[list[str]], list[str]]]:
    a = kb.matcher.analyzer.analyze
    out = []
    for e in kb.entries:
        phr = [list(a(p).tokens) for p in e.phrasings()]
        ans = list(a(e.answer).tokens) if with_answers else []
        out.append((phr, ans))
    return out


def main() -> int:
    kbs = {n: KnowledgeBase.load(load_set(n).directory, replace(MatchPolicy(), assoc_weight=0.0)) for n in FIT_SETS}
    rows = {n: [(q, ids) for q, ids in load_set(n).rows if ids is not None] for n in FIT_SETS}
    groups = {n: kb_groups(kbs[n], True) for n in FIT_SETS}
    variants: dict[str, dict[str, tuple[float, float]]] = {}

    def record(name, setname, t1, t3):
        variants.setdefault(name, {})[setname] = (t1, t3)

    for n in FIT_SETS:
        kb = kbs[n]
        m = kb.matcher
        # association tables: own (phrasings only / + answers), domain (other three sets), both
        own_p = AssociationTable.learn(groups[n], use_answers=False)
        own_a = AssociationTable.learn(groups[n], use_answers=True)
        others = [g for k, gs in groups.items() if k != n for g in gs]
        dom = AssociationTable.learn(others, use_answers=False)
        dom_a = AssociationTable.learn(others, use_answers=True)
        both = AssociationTable.learn(others + groups[n], use_answers=True)
        tables = {"own": own_p, "own+ans": own_a, "dom": dom, "dom+ans": dom_a, "both+ans": both}
        tables = {"dom+ans": dom_a,
                  "dom+ans subst": AssociationTable.learn(others, use_answers=True, substitutions_only=True),
                  "dom subst": AssociationTable.learn(others, use_answers=False, substitutions_only=True)}
        eas = {f"{k} sat={sat}": EntryAssociations(t, m, sat) for k, t in tables.items() for sat in (0.02, 0.05)}
        cg = CharGrams(kb.entries, m.analyzer)
        qs = []
        for q, ids in rows[n]:
            an = m.analyzer.analyze(q)
            ranked = m.rank(an, 24)
            qs.append((q, ids, an, ranked))

        def evaluate(fn, label):
            t1 = t3 = 0
            for q, ids, an, ranked in qs:
                got = fn(q, an, ranked)
                ids_got = [kb.entries[d].id for d in got[:3]]
                t1 += bool(ids_got) and ids_got[0] in ids
                t3 += any(g in ids for g in ids_got)
            record(label, n, t1 / len(qs), t3 / len(qs))

        evaluate(lambda q, an, r: [d for _, d in r], "as shipped")
        for tname, ea in eas.items():
            for alpha in (2.0, 4.0, 8.0):
                def fn(q, an, r, ea=ea, alpha=alpha):
                    sc = [(s + alpha * ea.score(an, d), d) for s, d in r]
                    return [d for _, d in sorted(sc, reverse=True)]
                evaluate(fn, f"assoc {tname} a={alpha}")
        # char n-gram cosine fusion
        for kk in ():
            for wc in (0.5, 1.0):
                def fn(q, an, r, kk=kk, wc=wc):
                    cs = cg.scores(q, [d for _, d in r])
                    order = sorted(range(len(r)), key=lambda i: -cs[i])
                    crank = {r[i][1]: pos for pos, i in enumerate(order)}
                    fused = [(1 / (kk + pos) + wc / (kk + crank[d]), d) for pos, (s, d) in enumerate(r)]
                    return [d for _, d in sorted(fused, reverse=True)]
                evaluate(fn, f"rrf k={kk} w={wc}")
        for g in ():
            def fn(q, an, r, g=g):
                if not r:
                    return []
                cs = cg.scores(q, [d for _, d in r])
                top = r[0][0]
                sc = [(s + g * top * c, d) for (s, d), c in zip(r, cs)]
                return [d for _, d in sorted(sc, reverse=True)]
            evaluate(fn, f"linear cos g={g}")
        print(f"done {n}", file=sys.stderr)

    print(f"{'variant':<28}" + "".join(f"{n:>16}" for n in FIT_SETS) + "   mean top1 (outside 3)")
    for name, per in variants.items():
        cells = "".join(f"   {100 * per[n][0]:5.1f}/{100 * per[n][1]:5.1f}" for n in FIT_SETS)
        mean_out = sum(per[n][0] for n in FIT_SETS[1:]) / 3
        print(f"{name:<28}{cells}   {100 * mean_out:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
