"""Fit the learned reranker (knowledge.rerank) across knowledge bases and validate it by leaving one out.

    .venv/bin/python bench/kb_rerank.py [--l2 0.01] [--depth 10] [--loss listwise|pairwise] [--model-depth N]
        [--drop FEATURE ...] [--ablate] [--switch-margin TAU] [--tie SHARE] [--own-examples] [--cache FILE]
    .venv/bin/python bench/kb_rerank.py --resident-associations all|tuning

For each fitting knowledge base of bench/kb_eval.py (bundled with its whole evaluation set, terse, faq, civil; never
the held-out retrofit or facts): the word-association table is learned from the other three's entries (as
bench/kb_tune.py does), every knowledge base is ranked with it (reranker off), the pairwise model is fitted on the
other three's in-scope questions (each knowledge base weighing the same) and measured on the one left out: "ranked
1st" and top-3 of the raw ranking, in-scope questions, before and after. Then it fits on all four with the shipped
table and prints the MatchPolicy.rerank_coef to write into knowledge/matcher.py.
"""
from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb_assoc_build import ANSWER_SHARE, kb_directory, learn_table  # noqa: E402
from kb_eval import FIT_SETS, TUNING_SPLITS, load_set  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402
from knowledge.assoc import AssociationTable  # noqa: E402
from knowledge.matcher import Matcher, MatchPolicy, bounded  # noqa: E402
from knowledge.rerank import FEATURES, Reranker, listwise_fit, pairwise_fit  # noqa: E402


@dataclass
class Question:
    """One in-scope question: its candidates' features (incoming order) and which candidates are right."""

    x: np.ndarray
    right: np.ndarray


def questions(name: str, table: AssociationTable | None, depth: int,
              policy: MatchPolicy | None = None) -> list[Question]:
    """The in-scope questions of a fitting knowledge base, ranked with `table` (None: the shipped one), the
    reranker off, the best `depth` candidates kept."""
    kb = KnowledgeBase.load(load_set(name, TUNING_SPLITS[:1]).directory, policy)
    base = replace(kb.matcher.policy, rerank_coef=())
    m = Matcher(kb.entries, kb.analyzer, base, table)
    features = Reranker(m, np.zeros(len(FEATURES)), depth)
    out = []
    for q, ids in load_set(name).rows:
        if ids is None:
            continue
        a = m.analyzer.analyze(bounded(q))
        pool = m.rank(a, depth)
        if not pool:
            out.append(Question(np.zeros((0, len(FEATURES))), np.zeros(0, dtype=bool)))
            continue
        right = np.array([m.entries[d].id in ids for _, d in pool], dtype=bool)
        out.append(Question(features.features(a, pool), right))
    return out


LOSS = "listwise"
DEPTH = 10   # candidates the model sees (≤ the depth the questions were ranked with)
SWITCH = 0.0  # the model's best replaces the incoming first only when it beats it by more than this
TIE = 0.0     # only candidates scoring at least this share of the best score (and the first) are reordered


def fit(by_kb: dict[str, list[Question]], l2: float, keep: np.ndarray) -> np.ndarray:
    groups = []
    for qs in by_kb.values():
        usable = [cut(q) for q in qs]
        usable = [q for q in usable if q.right.any() and not q.right.all()]
        groups += [(q.x[:, keep], q.right, 1.0 / max(1, len(usable))) for q in usable]
    w = np.zeros(len(FEATURES))
    w[keep] = (listwise_fit if LOSS == "listwise" else pairwise_fit)(groups, l2)
    return w


def cut(q: Question) -> Question:
    """The question's best DEPTH candidates (their features as computed over the whole pool it was ranked with),
    those scoring at least TIE of the best one's score."""
    keep = np.arange(len(q.right)) < DEPTH
    if TIE:
        keep &= q.x[:, 0] >= TIE
        keep[:1] = True
    return Question(q.x[keep], q.right[keep])


def order(q: Question, w: np.ndarray | None) -> list[int]:
    """Candidate positions as shown: as ranked (w None), or as Reranker.reorder orders them."""
    n = len(q.right)
    if w is None or n < 2:
        return list(range(n))
    n = min(n, DEPTH)
    values = q.x[:n] @ w
    if TIE:  # candidates far below the best score keep their places behind the others
        values = np.where((q.x[:n, 0] >= TIE) | (np.arange(n) == 0), values, -np.inf)
    ranked = sorted(range(n), key=lambda i: (-values[i], i))
    if SWITCH and values[ranked[0]] - values[0] <= SWITCH:
        ranked.remove(0)
        ranked.insert(0, 0)
    first, rest = ranked[0], ranked[1:]
    runner = max(rest, key=lambda i: (q.x[i, 0], -i))  # feature 0: lexical score ÷ the best one's
    rest.remove(runner)
    return [first, runner, *rest, *range(n, len(q.right))]


def measure(qs: list[Question], w: np.ndarray | None) -> tuple[float, float]:
    t1 = t3 = 0
    for q in qs:
        o = order(q, w)
        t1 += bool(o) and bool(q.right[o[0]])
        t3 += bool(q.right[o[:3]].any()) if o else False
    return t1 / len(qs), t3 / len(qs)


def loo(folds: dict[str, dict[str, list[Question]]], l2: float, keep: np.ndarray, quiet: bool = False):
    """Leave one knowledge base out; returns the pooled (before, after) ranked-1st counts."""
    pooled = np.zeros(4)
    for left, by_kb in folds.items():
        w = fit({k: v for k, v in by_kb.items() if k != left}, l2, keep)
        qs = by_kb[left]
        b1, b3 = measure(qs, None)
        a1, a3 = measure(qs, w)
        pooled += np.array([b1, b3, a1, a3]) * len(qs)
        if not quiet:
            print(f"  {left:<8} n {len(qs):5d}  ranked 1st {100 * b1:5.1f} → {100 * a1:5.1f}%   "
                  f"top-3 {100 * b3:5.1f} → {100 * a3:5.1f}%")
    n = sum(len(by_kb[k]) for k, by_kb in folds.items())
    b1, b3, a1, a3 = pooled / n
    if not quiet:
        print(f"  {'pooled':<8} n {n:5d}  ranked 1st {100 * b1:5.1f} → {100 * a1:5.1f}%   "
              f"top-3 {100 * b3:5.1f} → {100 * a3:5.1f}%")
    return a1 - b1


def fold_data(depth: int) -> dict[str, dict[str, list[Question]]]:
    """Per left-out knowledge base, every fitting knowledge base's questions ranked with the table learned from
    the other three's entries."""
    folds = {}
    for left in FIT_SETS:
        table = learn_table([k for k in FIT_SETS if k != left])
        folds[left] = {name: questions(name, table, depth) for name in FIT_SETS}
    return folds


def own_examples(l2: float, depth: int, everything: dict[str, list[Question]], folds: int = 4) -> None:
    """The reranker fitted on each knowledge base's own example questions (each asked of a matcher built without
    the quarter of the example questions it belongs to), measured on that knowledge base's resident questions:
    a fit that needs no labelled resident question."""
    print("fitted on each knowledge base's own example questions (left out by quarters), measured on its residents':")
    for name in FIT_SETS:
        kb = KnowledgeBase.load(load_set(name, TUNING_SPLITS[:1]).directory)
        policy = replace(kb.matcher.policy, rerank_coef=())
        qs = []
        for fold in range(folds):
            kept, asked = [], []
            for e in kb.entries:
                kept.append(replace(e, questions=tuple(q for i, q in enumerate(e.questions) if i % folds != fold)))
                asked += [(q, e.id) for i, q in enumerate(e.questions) if i % folds == fold]
            m = Matcher(kept, kb.analyzer, policy)
            features = Reranker(m, np.zeros(len(FEATURES)), depth)
            for q, want in asked:
                a = m.analyzer.analyze(bounded(q))
                pool = m.rank(a, depth)
                if pool:
                    right = np.array([m.entries[d].id == want for _, d in pool], dtype=bool)
                    qs.append(Question(features.features(a, pool), right))
        w = fit({name: qs}, l2, np.ones(len(FEATURES), dtype=bool))
        (b1, _), (a1, _) = measure(qs, None), measure(qs, w)
        (c1, c3), (d1, d3) = measure(everything[name], None), measure(everything[name], w)
        print(f"  {name:<8} own examples ranked 1st {100 * b1:5.1f} → {100 * a1:5.1f}%   residents: ranked 1st "
              f"{100 * c1:5.1f} → {100 * d1:5.1f}%, top-3 {100 * c3:5.1f} → {100 * d3:5.1f}%")


def resident_associations(bundled_splits: tuple[str, ...] | None) -> None:
    """Not the reranker: the word-association table learned from the other knowledge bases' entries and their
    resident questions (each question one more phrasing of its entry; `bundled_splits`: which splits of the bundled
    evaluation set, None: all), against the entries alone; raw ranking, top-1 / top-3, in-scope questions."""
    kbs = {name: KnowledgeBase.load(kb_directory(name)) for name in FIT_SETS}

    def groups(names: list[str], residents: bool) -> list[tuple[list[list[str]], list[str]]]:
        out = []
        for name in names:
            kb = kbs[name]
            asked: dict[str, list[str]] = {}
            if residents:
                rows = load_set(name, bundled_splits).rows if name == "bundled" else load_set(name).rows
                for q, ids in rows:
                    if ids is not None and len(ids) == 1:
                        asked.setdefault(next(iter(ids)), []).append(q)
            for e in kb.entries:
                texts = [*e.phrasings(), *(bounded(q) for q in asked.get(e.id, ()))]
                out.append(([list(kb.analyzer.analyze(t).tokens) for t in texts],
                            list(kb.analyzer.analyze(e.answer).tokens)))
        return out

    def ranking(name: str, table: AssociationTable) -> str:
        kb = kbs[name]
        m = Matcher(kb.entries, kb.analyzer, kb.matcher.policy, table)
        t1 = t3 = n = 0
        for q, ids in load_set(name).rows:
            if ids is None:
                continue
            got = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(bounded(q)), 3)]
            t1 += bool(got) and got[0] in ids
            t3 += any(g in ids for g in got)
            n += 1
        return f"{100 * t1 / n:5.1f} / {100 * t3 / n:5.1f}"

    print(f"association table from entries, then entries + resident questions (bundled splits: "
          f"{', '.join(bundled_splits) if bundled_splits else 'all'}); top-1 / top-3:")
    for left in FIT_SETS:
        others = [k for k in FIT_SETS if k != left]
        tables = [AssociationTable.learn(groups(others, residents), use_answers=True, answer_share=ANSWER_SHARE,
                                         substitutions_only=True) for residents in (False, True)]
        print(f"  {left:<8} {ranking(left, tables[0])} → {ranking(left, tables[1])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--l2", type=float, default=0.01)
    ap.add_argument("--depth", type=int, default=MatchPolicy().rerank_depth)
    ap.add_argument("--drop", nargs="*", default=[], help="features left out of the model")
    ap.add_argument("--ablate", action="store_true", help="also measure the model without each feature in turn")
    ap.add_argument("--cache", type=Path, help="keep the ranked questions in this pickle (for repeated fits)")
    ap.add_argument("--loss", choices=("listwise", "pairwise"), default="listwise")
    ap.add_argument("--model-depth", type=int, help="candidates the model reorders (default: --depth)")
    ap.add_argument("--switch-margin", type=float, default=0.0,
                    help="the model's best goes first only when it beats the incoming first by more than this")
    ap.add_argument("--tie", type=float, default=0.0,
                    help="reorder only the candidates scoring at least this share of the best score")
    ap.add_argument("--own-examples", action="store_true",
                    help="also fit on each knowledge base's own example questions and measure on its residents'")
    ap.add_argument("--resident-associations", choices=("all", "tuning"),
                    help="instead: the association table learned from resident questions too (bundled splits: "
                         "all, or the tuning splits only)")
    args = ap.parse_args(argv)
    global LOSS, DEPTH, SWITCH, TIE
    LOSS, DEPTH, SWITCH, TIE = args.loss, args.model_depth or args.depth, args.switch_margin, args.tie
    if args.resident_associations:
        resident_associations(None if args.resident_associations == "all" else TUNING_SPLITS)
        return 0
    keep = np.array([f not in args.drop for f in FEATURES])
    if args.cache and args.cache.exists():
        folds, everything = pickle.loads(args.cache.read_bytes())
    else:
        folds = fold_data(args.depth)
        everything = {name: questions(name, None, args.depth) for name in FIT_SETS}
        if args.cache:
            args.cache.write_bytes(pickle.dumps((folds, everything)))
    print(f"leave one knowledge base out (depth {args.depth}, l2 {args.l2}; raw ranking, in-scope questions):")
    loo(folds, args.l2, keep)
    if args.ablate:
        for i, f in enumerate(FEATURES):
            if keep[i]:
                k = keep.copy()
                k[i] = False
                print(f"  without {f:<12} pooled ranked 1st gain {100 * loo(folds, args.l2, k, quiet=True):+5.2f}")
    w = fit(everything, args.l2, keep)
    print("fitted on all four with the shipped table, in sample:")
    for name, qs in everything.items():
        b1, b3 = measure(qs, None)
        a1, a3 = measure(qs, w)
        print(f"  {name:<8} ranked 1st {100 * b1:5.1f} → {100 * a1:5.1f}%   top-3 {100 * b3:5.1f} → {100 * a3:5.1f}%")
    print(f"    rerank_coef: tuple[float, ...] = {tuple(round(float(c), 3) for c in w)}")
    print("    # " + ", ".join(FEATURES))
    if args.own_examples:
        own_examples(args.l2, args.depth, everything)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
