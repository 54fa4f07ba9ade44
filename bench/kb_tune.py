"""Grid search of MatchPolicy constants on the development split only (never the held-out one).

    .venv/bin/python bench/kb_tune.py
Prints ranking quality (top-1/top-3 of the raw ranking) per scoring setting, then the best decision
thresholds for the chosen scoring by a simple utility: right answers − 3 × wrong answers − 3 × false
answers on out-of-scope questions − 0.5 × unanswered in-scope questions − 0.5 × out-of-scope questions
answered with a candidate list + 0.3 × in-scope candidate lists that contain the right entry.
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb_eval import load_eval  # noqa: E402

from knowledge import KnowledgeBase, MatchPolicy  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402


def ranking(m: Matcher, rows):
    inscope = [(q, ids) for q, ids in rows if ids is not None]
    t1 = t3 = 0
    for q, ids in inscope:
        got = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(q), 3)]
        t1 += bool(got[:1]) and got[0] in ids
        t3 += any(g in ids for g in got)
    return t1 / len(inscope), t3 / len(inscope)


def decisions(m: Matcher, rows):
    out = []
    for q, ids in rows:
        a = m.analyzer.analyze(q)
        r = m.rank(a, 3)
        if not r:
            out.append((ids, None, 0.0, 0.0, 0.0, 0))
            continue
        margin = (r[0][0] - (r[1][0] if len(r) > 1 else 0.0)) / r[0][0]
        ok3 = ids is not None and any(m.entries[d].id in ids for _, d in r)
        out.append((ids, m.entries[r[0][1]].id, r[0][0], m.coverage(a, r[0][1]), margin, ok3))
    return out


def utility(dec, none_cov, ans_cov, margin, min_score=1.0):
    right = wrong = false = unanswered = listed_ok = oos_listed = 0
    for ids, top, score, cov, mar, ok3 in dec:
        if top is None or score < min_score or cov < none_cov:
            outcome = "none"
        elif cov >= ans_cov and mar >= margin:
            outcome = "answer"
        else:
            outcome = "ambiguous"
        if ids is None:
            false += outcome == "answer"
            oos_listed += outcome == "ambiguous"
        elif outcome == "answer":
            right += top in ids
            wrong += top not in ids
        elif outcome == "none":
            unanswered += 1
        else:
            listed_ok += ok3
    return right - 3 * wrong - 3 * false - 0.5 * unanswered + 0.3 * listed_ok - 0.5 * oos_listed, (right, wrong, false, unanswered, oos_listed)


def main() -> int:
    rows = load_eval(ROOT / "tests" / "data" / "kb_eval.yaml")["dev"]
    kb = KnowledgeBase.load()
    base = kb.matcher.policy
    grid = {
        "gram_weight": [0.3, 0.5, 0.7],
        "char_weight": [0.2, 0.4],
        "b": [0.3, 0.6],
        "intent_weight": [0.0, 2.0, 3.0, 4.0],
    }
    results = []
    for values in itertools.product(*grid.values()):
        pol = replace(base, **dict(zip(grid, values)))
        m = Matcher(kb.entries, kb.analyzer, pol)
        results.append((ranking(m, rows), values))
    results.sort(reverse=True)
    for (t1, t3), values in results[:8]:
        print(f"top1 {t1:.3f} top3 {t3:.3f}  {dict(zip(grid, values))}")
    m = kb.matcher
    print("current:", ranking(m, rows), base)
    best = []
    for oov in (0.5, 0.75, 1.0):
        mo = Matcher(kb.entries, kb.analyzer, replace(base, oov_factor=oov))
        dec = decisions(mo, rows)
        for nc, ac, mg in itertools.product([0.15, 0.2, 0.25, 0.3, 0.34], [0.4, 0.45, 0.5, 0.55, 0.6, 0.65],
                                            [0.0, 0.05, 0.1, 0.15, 0.2]):
            u, parts = utility(dec, nc, ac, mg)
            best.append((u, (oov, nc, ac, mg), parts))
    best.sort(reverse=True)
    for u, params, parts in best[:8]:
        print(f"utility {u:.1f} oov_factor/none_cov/answer_cov/margin {params} right/wrong/false/unanswered/oos-listed {parts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
