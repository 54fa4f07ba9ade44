"""Fit the matcher's decision, across knowledge bases (default) or on the bundled development splits (older modes).

    .venv/bin/python bench/kb_tune.py [--max-oos 0.05] [--l2 0.01]        # the gate of issue 17
    .venv/bin/python bench/kb_tune.py --splits-only | --grid [--loo]       # the bundled-only fit and scoring grid
    .venv/bin/python bench/kb_tune.py --self-fit                          # the gate fitted on each set itself
    .venv/bin/python bench/kb_tune.py --fixed-gate                        # the shipped gate, not refitted
    .venv/bin/python bench/kb_tune.py --policy assoc_weight=0             # any MatchPolicy field changed
    .venv/bin/python bench/kb_tune.py --rerank                            # with the learned reranker, refitted per fold

Leaving a knowledge base out also leaves its entries out of the word-association table (knowledge.assoc): the
table is learned from the other three (bench/kb_assoc_build.learn_table) and every set is ranked with it.

Default (issue 17): the gate is fitted on the fitting knowledge bases of bench/kb_eval.py (bundled with its whole
evaluation set, terse, faq, civil; never the held-out retrofit). For each of them, P(best entry right) and the
answer thresholds are fitted on the other three and measured on it (leave one knowledge base out), then fitted
on all four; it prints those figures and the MatchPolicy values to write into knowledge/matcher.py. Each knowledge
base weighs the same in the logistic fit; thresholds maximise a utility (gate_utility) with at most --max-oos
of each one's out-of-scope questions answered. P(in scope) keeps its bundled fit (see fit_gate).

Older modes, on the bundled development splits only (kb_eval.TUNING_SPLITS):

1. (--grid) ranking quality (top-1/top-3 of the raw ranking, in-scope questions) for a small grid of
   scoring settings, on the fitting splits (dev, dev2, dev3) and separately on the checking splits (dev4, dev5,
   dev6), and (with --loo) by leaving phrasings out: a held-out-free check of how a setting generalises to ways
   of asking the knowledge base does not list (see leave_phrasings_out). Prefer settings that help the checking
   splits and the leave-out figure, not only the fitting splits.
2. Fits the two logistic models of knowledge.confidence on the current scoring: P(in scope) on every
   question, P(best entry right) on every question (out-of-scope ones count as wrong), with a small L2
   penalty, by Newton's method.
3. Picks the thresholds `none_below` / `answer_from` / `answer_margin` by a utility: right answer +1, wrong answer −3,
   out-of-scope answered −3, out-of-scope listed −0.5, in-scope list holding the right entry +0.3,
   in-scope list without it −0.3, in-scope "none" −1 (the resident gets nothing); among the settings that answer
   at most `--max-oos` (0.01 in this mode) of the out-of-scope questions (the target is 5% on every held-out split, each of ~15
   questions, so the development splits must stay well below it).
4. Shows, for a grid of `suggest_from` / `suggest_anchor`, how many "none" questions would be offered suggestions:
   in-scope ones (and how many of those lists hold the right entry) against out-of-scope ones (which must not
   get any).
Prints the MatchPolicy values to write into knowledge/matcher.py. Never reads the held-out splits.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import kb_rerank  # noqa: E402
from kb_assoc_build import learn_table  # noqa: E402
from kb_eval import FIT_SETS, TUNING_SPLITS, load_eval, load_set  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402
from knowledge.assoc import AssociationTable  # noqa: E402
from knowledge.confidence import CORRECT_FEATURES, IN_SCOPE_FEATURES, Features, probability  # noqa: E402
from knowledge.matcher import Matcher, MatchPolicy, bounded, phrasing_key  # noqa: E402
from knowledge.rerank import FEATURES  # noqa: E402

FIT_SPLITS = ("dev", "dev2", "dev3")      # settings are compared on these …
CHECK_SPLITS = ("dev4", "dev5", "dev6")   # … and confirmed on these before adoption


def tuning_rows(names=TUNING_SPLITS):
    splits = load_eval(ROOT / "tests" / "data" / "kb_eval.yaml")
    return [row for name in names for row in splits[name]]


def leave_phrasings_out(entries, analyzer, policy, folds: int = 4) -> tuple[float, float]:
    """(top-1, top-3) when every entry loses one fold of its questions, which are then asked.

    Each question is asked of a matcher built without it (its title and keywords stay), so the figure measures
    how well scoring generalises to a phrasing the knowledge base does not contain, without any evaluation split.
    """
    t1 = t3 = n = 0
    for fold in range(folds):
        kept, asked = [], []
        for e in entries:
            kept.append(replace(e, questions=tuple(q for i, q in enumerate(e.questions) if i % folds != fold)))
            asked += [(q, e.id) for i, q in enumerate(e.questions) if i % folds == fold]
        m = Matcher(kept, analyzer, policy)
        for q, want in asked:
            got = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(q), 3)]
            t1 += bool(got) and got[0] == want
            t3 += want in got
            n += 1
    return t1 / max(1, n), t3 / max(1, n)


def ranking(m: Matcher, rows):
    inscope = [(q, ids) for q, ids in rows if ids is not None]
    t1 = t3 = 0
    for q, ids in inscope:
        got = [m.entries[d].id for _, d in m.rank(m.analyzer.analyze(q), 3)]
        t1 += bool(got[:1]) and got[0] in ids
        t3 += any(g in ids for g in got)
    return t1 / len(inscope), t3 / len(inscope)


def observations(m: Matcher, rows):
    """Per question: (in scope?, top-1 right?, right entry in top 3?, features or None when nothing ranks)."""
    out = []
    for q, ids in rows:
        a = m.analyzer.analyze(q)
        r = m.rank(a, 3)
        if not r or r[0][0] < m.policy.min_score:
            out.append((ids is not None, False, False, None))
            continue
        got = [m.entries[d].id for _, d in r]
        ok1 = ids is not None and got[0] in ids
        ok3 = ids is not None and any(g in ids for g in got)
        out.append((ids is not None, ok1, ok3, m.features(a, r)))
    return out


def fit_logistic(xs: list[list[float]], ys: list[int], l2: float = 0.05, iterations: int = 50,
                 weights: list[float] | None = None) -> list[float]:
    """L2-penalised logistic regression (bias unpenalised) by Newton's method; returns [bias, *weights].
    `weights`: one per question (each knowledge base weighs the same, whatever its number of questions)."""
    n = len(xs[0]) + 1
    rows = [[1.0, *x] for x in xs]
    ws = weights or [1.0] * len(rows)
    total = sum(ws)
    w = [0.0] * n
    for _ in range(iterations):
        grad = [0.0] * n
        hess = [[0.0] * n for _ in range(n)]
        for x, y, sw in zip(rows, ys, ws):
            p = probability(tuple(w), x[1:])
            for i in range(n):
                grad[i] += sw * (p - y) * x[i]
                for j in range(n):
                    hess[i][j] += sw * p * (1 - p) * x[i] * x[j]
        for i in range(1, n):
            grad[i] += l2 * total * w[i]
            hess[i][i] += l2 * total
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return w


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[piv] = m[piv], m[c]
        d = m[c][c] or 1e-12
        for r in range(n):
            if r != c:
                f = m[r][c] / d
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / (m[i][i] or 1e-12) for i in range(n)]


def utility(obs, in_coef, ok_coef, none_below, answer_from, answer_margin=0.0):
    u = 0.0
    counts = dict(right=0, wrong=0, oos_answered=0, oos_listed=0, in_none=0, listed_ok=0)
    for in_scope, ok1, ok3, f in obs:
        if f is None:
            outcome = "none"
        else:
            p_in = probability(in_coef, f.vector(IN_SCOPE_FEATURES))
            p_ok = probability(ok_coef, f.vector(CORRECT_FEATURES))
            sure = p_ok >= answer_from and f.margin >= answer_margin
            outcome = "none" if p_in < none_below else "answer" if sure else "ambiguous"
        if not in_scope:
            if outcome == "answer":
                u -= 3
                counts["oos_answered"] += 1
            elif outcome == "ambiguous":
                u -= 0.5
                counts["oos_listed"] += 1
        elif outcome == "answer":
            u += 1 if ok1 else -3
            counts["right" if ok1 else "wrong"] += 1
        elif outcome == "ambiguous":
            u += 0.3 if ok3 else -0.3
            counts["listed_ok"] += ok3
        else:
            u -= 1
            counts["in_none"] += 1
    return u, counts


def suggestion_sweep(obs, in_coef, policy) -> None:
    """Which "none" questions a suggestion gate would offer the top entries to (policy's none_below)."""
    n_oos = sum(1 for o in obs if not o[0])
    nones = []
    for in_scope, _, ok3, f in obs:
        if f is None:
            continue
        p_in = probability(in_coef, f.vector(IN_SCOPE_FEATURES))
        if p_in < policy.none_below:
            nones.append((in_scope, ok3, p_in, f.anchor))
    print(f"'none' questions: {sum(1 for n in nones if n[0])} in scope, {sum(1 for n in nones if not n[0])} out of scope")
    for sf in (0.1, 0.15, 0.2, 0.25):
        for sa in (-1.0, 0.3, 0.4, 0.5, 0.6):
            got = [n for n in nones if n[2] >= sf and n[3] >= sa]
            oos = sum(1 for n in got if not n[0])
            print(f"  suggest_from {sf:.2f} suggest_anchor {sa:4.1f}: in-scope suggested {sum(1 for n in got if n[0])} "
                  f"(right entry listed {sum(1 for n in got if n[1])}), out-of-scope suggested {oos} "
                  f"({100 * oos / max(1, n_oos):.1f}%)")


# --- the gate, fitted across knowledge bases (issue 17) -------------------------------------------------------

POLICY = MatchPolicy()   # the scoring and gate settings measured (--policy changes fields of it)


@dataclass
class Obs:
    """One question of a fitting knowledge base: in scope?, best entry right?, right entry in the top 3?,
    one of the knowledge base's own phrasings (answered outright)?, and its features (None: nothing ranks)."""

    in_scope: bool
    ok1: bool
    ok3: bool
    exact: bool
    features: Features | None
    group: str = ""   # the question set it comes from (the bundled knowledge base's split, or the set's name)


def kb_observations(name: str, table: AssociationTable | None = None,
                    policy: MatchPolicy | None = None) -> list[Obs]:
    """Observations of a fitting knowledge base (the bundled one: every split of its evaluation set, as
    bench/kb_eval.py reports it). `table`: the word-association table to rank with (None: the shipped one);
    `policy`: the scoring settings (None: POLICY)."""
    if name == "bundled":
        splits = tuple(load_eval(ROOT / "tests" / "data" / "kb_eval.yaml"))
        groups = [(split, load_set(name, (split,)).rows) for split in splits]
    else:
        groups = [(name, load_set(name).rows)]
    kb = KnowledgeBase.load(load_set(name, TUNING_SPLITS[:1]).directory, policy or POLICY)
    m = kb.matcher if table is None else Matcher(kb.entries, kb.analyzer, kb.matcher.policy, table)
    out = []
    for group, q, ids in ((g, q, ids) for g, rows in groups for q, ids in rows):
        a = m.analyzer.analyze(bounded(q))
        r = m.rank(a, 3)
        exact = phrasing_key(bounded(q)) in m.exact
        if not r or r[0][0] < m.policy.min_score:
            out.append(Obs(ids is not None, False, False, exact, None, group))
            continue
        got = [m.entries[d].id for _, d in r]
        ok1 = ids is not None and got[0] in ids
        ok3 = ids is not None and any(g in ids for g in got)
        out.append(Obs(ids is not None, ok1, ok3, exact, m.features(a, r), group))
    return out


@dataclass(frozen=True)
class Gate:
    in_coef: tuple[float, ...]
    ok_coef: tuple[float, ...]
    none_below: float
    answer_from: float
    answer_margin: float
    answer_in: float

    def outcome(self, o: Obs, policy: MatchPolicy) -> tuple[str, bool]:
        """(outcome, right entry among the matches shown) — Matcher.ask's decision on the stored features."""
        if o.exact:
            return "answer", True
        f = o.features
        if f is None:
            return "none", False
        p_in = probability(self.in_coef, f.vector(IN_SCOPE_FEATURES))
        p_ok = probability(self.ok_coef, f.vector(CORRECT_FEATURES))
        if p_in < self.none_below:
            return "none", o.ok3 and p_in >= policy.suggest_from and f.anchor >= policy.suggest_anchor
        if p_ok >= self.answer_from and f.margin >= self.answer_margin and p_in >= self.answer_in:
            return "answer", o.ok3
        return "ambiguous", o.ok3


def gate_counts(gate: Gate, obs: list[Obs], policy: MatchPolicy) -> Counter:
    c: Counter = Counter()
    for o in obs:
        outcome, shown = gate.outcome(o, policy)
        if not o.in_scope:
            c["n_oos"] += 1
            c["oos_answered"] += outcome == "answer"
            c["oos_menu"] += outcome == "ambiguous"
            continue
        right = o.ok1 or o.exact
        c["n_in"] += 1
        c["first"] += right
        c["answered"] += outcome == "answer" and right
        c["wrong"] += outcome == "answer" and not right
        c["menu"] += outcome == "ambiguous"
        c["none"] += outcome == "none"
        c["top3"] += shown
    return c


# Utility of one knowledge base's outcomes, per in-scope question: right answer +1, wrong answer −1.5 (a resident
# can still reply 不对 for the next candidates), the "which one?" menu −0.8, nothing −1; per out-of-scope question,
# answered −4, offered the menu −0.5. Thresholds are chosen under a cap on the pooled out-of-scope questions answered.
def gate_utility(c: Counter) -> float:
    n, m = max(1, c["n_in"]), max(1, c["n_oos"])
    return ((c["answered"] - 1.5 * c["wrong"] - 0.8 * c["menu"] - c["none"]) / n
            - (4 * c["oos_answered"] + 0.5 * c["oos_menu"]) / m)


THRESHOLDS = list(itertools.product(
    [0.3],                                                   # none_below (kept)
    [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9],          # answer_from
    [0.1, 0.15, 0.2, 0.3],                                   # answer_margin: true ties always get the menu
    [0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97],        # answer_in
))


def fit_gate(obs_by_kb: dict[str, list[Obs]], policy: MatchPolicy, l2: float = 0.01,
             max_oos: float = 0.045) -> Gate:
    """Both logistic models on the given knowledge bases (each weighing the same), then the thresholds that
    maximise the summed utility with at most `max_oos` of each one's out-of-scope questions answered (a cap on
    each development split of the bundled knowledge base, ~15 out-of-scope questions each, was tried: it forces
    P(in scope) ≥ 0.95 for an answer and halves the answers on the other knowledge bases)."""
    xs_in, xs_ok, ys_in, ys_ok, ws = [], [], [], [], []
    for obs in obs_by_kb.values():
        usable = [o for o in obs if o.features is not None and not o.exact]
        for o in usable:
            assert o.features is not None
            xs_in.append(o.features.vector(IN_SCOPE_FEATURES))
            xs_ok.append(o.features.vector(CORRECT_FEATURES))
            ys_in.append(int(o.in_scope))
            ys_ok.append(int(o.ok1))
            ws.append(1.0 / len(usable))
    # P(in scope) and its "none" threshold stay as fitted on the bundled development splits (they refuse other
    # services' questions: 水费, 契税, 低保); refitting them across knowledge bases refused fewer of them.
    in_coef = policy.in_scope_coef
    ok_coef = tuple(round(c, 3) for c in fit_logistic(xs_ok, ys_ok, l2, weights=ws))
    best: tuple[float, Gate] | None = None
    for nb, af, am, ain in THRESHOLDS:
        if nb != policy.none_below or (ain and ain < nb):
            continue
        gate = Gate(in_coef, ok_coef, nb, af, am, ain)
        counts = [gate_counts(gate, obs, policy) for obs in obs_by_kb.values()]
        if any(c["oos_answered"] > max_oos * c["n_oos"] for c in counts):  # the target, on each one
            continue
        u = sum(gate_utility(c) for c in counts)
        if best is None or u > best[0]:
            best = (u, gate)
    assert best is not None, "no threshold setting keeps the out-of-scope cap"
    return best[1]


def _line(name: str, c: Counter) -> str:
    n, m = max(1, c["n_in"]), max(1, c["n_oos"])
    return (f"  {name:<10} top-1 answered {100 * c['answered'] / n:5.1f}%  top-3 {100 * c['top3'] / n:5.1f}%  "
            f"ranked 1st {100 * c['first'] / n:5.1f}%  menu {100 * c['menu'] / n:5.1f}%  "
            f"answered wrong {100 * c['wrong'] / n:5.1f}%  none {100 * c['none'] / n:5.1f}%  "
            f"oos answered {100 * c['oos_answered'] / m:5.1f}% (menu {100 * c['oos_menu'] / m:5.1f}%)")


def shipped_gate(policy: MatchPolicy) -> Gate:
    return Gate(policy.in_scope_coef, policy.correct_coef, policy.none_below, policy.answer_from,
                policy.answer_margin, policy.answer_in)


def cross_kb(l2: float, max_oos: float, fixed: bool = False, rerank: bool = False) -> Gate:
    """Leave one knowledge base out: fit on the other fitting sets, measure on it; then fit on all of them.
    `rerank`: the learned reranker (knowledge.rerank) is refitted on the other sets too (bench/kb_rerank.py) and
    every set ranked with it, before the gate is fitted."""
    policy = POLICY
    folds = {}
    if rerank:
        keep = np.ones(len(FEATURES), dtype=bool)
        folds = kb_rerank.fold_data(policy.rerank_depth)
        everything = {name: kb_rerank.questions(name, None, policy.rerank_depth) for name in FIT_SETS}
        policy = replace(policy, rerank_coef=tuple(float(c) for c in kb_rerank.fit(everything, l2, keep)))
        print(f"reranker fitted on {', '.join(FIT_SETS)}: rerank_coef = {tuple(round(c, 3) for c in policy.rerank_coef)}")
    obs = {name: kb_observations(name, None, policy) for name in FIT_SETS}
    print("leave-one-knowledge-base-out (fit on the others, measured on the one named; never the held-out set):")
    pooled: Counter = Counter()
    for left in FIT_SETS:
        # The domain association table is learned from the others' entries too: every knowledge base is ranked
        # with a table that never saw the left-out one's entries.
        loo = obs
        fold_policy = policy
        if rerank:
            others = {k: v for k, v in folds[left].items() if k != left}
            fold_policy = replace(policy, rerank_coef=tuple(float(c) for c in kb_rerank.fit(others, l2, keep)))
        if policy.assoc_weight or rerank:
            table = learn_table([k for k in FIT_SETS if k != left])
            loo = {name: kb_observations(name, table, fold_policy) for name in FIT_SETS}
        gate = (shipped_gate(policy) if fixed
                else fit_gate({k: v for k, v in loo.items() if k != left}, policy, l2, max_oos))
        c = gate_counts(gate, loo[left], policy)
        pooled.update(c)
        print(_line(left, c) + f"   thresholds nb {gate.none_below} af {gate.answer_from} "
              f"am {gate.answer_margin} ain {gate.answer_in}")
    print(_line("pooled", pooled))
    if fixed:
        return shipped_gate(policy)
    gate = fit_gate(obs, policy, l2, max_oos)
    print(f"fitted on {', '.join(FIT_SETS)} (write into MatchPolicy):")
    print(f"    in_scope_coef: tuple[float, ...] = {gate.in_coef}   # {IN_SCOPE_FEATURES}")
    print(f"    correct_coef: tuple[float, ...] = {gate.ok_coef}   # {CORRECT_FEATURES}")
    print(f"    none_below = {gate.none_below}, answer_from = {gate.answer_from}, "
          f"answer_margin = {gate.answer_margin}, answer_in = {gate.answer_in}")
    for name in FIT_SETS:
        print(_line(name, gate_counts(gate, obs[name], policy)) + "   (in-sample)")
    return gate


def self_fit(l2: float, max_oos: float) -> None:
    """The same gate (P(best entry right) and thresholds; P(in scope) as in MatchPolicy) fitted on each fitting
    knowledge base's own questions and measured on them: in sample, so an optimistic figure of what this family
    of gates can do on that knowledge base with the current ranking and features (not a validation)."""
    policy = POLICY
    print("the gate fitted on each knowledge base itself and measured on it (in sample, optimistic):")
    for name in FIT_SETS:
        obs = kb_observations(name)
        gate = fit_gate({name: obs}, policy, l2, max_oos)
        print(_line(name, gate_counts(gate, obs, policy)) + f"   thresholds af {gate.answer_from} "
              f"am {gate.answer_margin} ain {gate.answer_in}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", action="store_true", help="compare scoring settings first")
    ap.add_argument("--loo", action="store_true", help="also report the leave-phrasings-out ranking (slower)")
    ap.add_argument("--l2", type=float, default=0.01, help="L2 penalty per question of the logistic fits")
    ap.add_argument("--max-oos", type=float, default=0.05,
                    help="largest share of out-of-scope questions a threshold setting may answer")
    ap.add_argument("--splits-only", action="store_true",
                    help="the former bundled-only fit (development splits) instead of the cross-knowledge-base one")
    ap.add_argument("--self-fit", action="store_true",
                    help="fit the gate on each fitting knowledge base itself (in sample: what the gate family can do)")
    ap.add_argument("--fixed-gate", action="store_true",
                    help="measure the shipped gate (MatchPolicy's coefficients and thresholds) instead of refitting it")
    ap.add_argument("--rerank", action="store_true",
                    help="refit the learned reranker (knowledge.rerank) per fold and rank with it before the gate")
    ap.add_argument("--policy", action="append", default=[], metavar="FIELD=VALUE",
                    help="a MatchPolicy field changed for this run (repeatable), e.g. assoc_weight=0")
    args = ap.parse_args(argv)
    global POLICY
    for item in args.policy:
        key, value = item.split("=", 1)
        POLICY = replace(POLICY, **{key: type(getattr(POLICY, key))(value)})
    if args.self_fit:
        self_fit(args.l2, args.max_oos)
        return 0
    if not args.splits_only and not args.grid:
        cross_kb(args.l2, args.max_oos, args.fixed_gate, args.rerank)
        return 0
    rows = tuning_rows()
    kb = KnowledgeBase.load()
    base = kb.matcher.policy
    if args.grid:
        grid = {
            "phrase_weight": [0.5, 1.0],
            "title_repeat": [1, 2],
            "keyword_repeat": [1, 2],
            "b": [0.6, 0.75],
            "intent_weight": [2.0, 3.0, 4.0],
        }
        fit_rows, check_rows = tuning_rows(FIT_SPLITS), tuning_rows(CHECK_SPLITS)
        results = []
        for values in itertools.product(*grid.values()):
            pol = replace(base, **dict(zip(grid, values)))
            m = Matcher(kb.entries, kb.analyzer, pol)
            results.append((ranking(m, fit_rows), ranking(m, check_rows), values))
        results.sort(reverse=True)
        for fit, check, values in results[:10]:
            loo = leave_phrasings_out(kb.entries, kb.analyzer, replace(base, **dict(zip(grid, values)))) \
                if args.loo else None
            print(f"fit top1 {fit[0]:.3f} top3 {fit[1]:.3f}  check top1 {check[0]:.3f} top3 {check[1]:.3f}"
                  + (f"  leave-out top1 {loo[0]:.3f} top3 {loo[1]:.3f}" if loo else "")
                  + f"  {dict(zip(grid, values))}")
    print("current ranking top1/top3:", tuple(round(x, 3) for x in ranking(kb.matcher, rows)))
    if args.loo:
        print("current leave-phrasings-out top1/top3:",
              tuple(round(x, 3) for x in leave_phrasings_out(kb.entries, kb.analyzer, base)))

    obs = observations(kb.matcher, rows)
    usable = [o for o in obs if o[3] is not None]
    in_coef = fit_logistic([o[3].vector(IN_SCOPE_FEATURES) for o in usable], [int(o[0]) for o in usable], args.l2)
    ok_coef = fit_logistic([o[3].vector(CORRECT_FEATURES) for o in usable], [int(o[1]) for o in usable], args.l2)
    in_coef = tuple(round(c, 3) for c in in_coef)
    ok_coef = tuple(round(c, 3) for c in ok_coef)
    best = []
    n_oos = max(1, sum(1 for o in obs if not o[0]))
    for nb, af, am in itertools.product([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
                                        [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.925, 0.95],
                                        [0.0, 0.03, 0.05, 0.1]):
        u, counts = utility(obs, in_coef, ok_coef, nb, af, am)
        if counts["oos_answered"] / n_oos <= args.max_oos:
            best.append((u, nb, af, am, counts))
    best.sort(key=lambda t: -t[0])
    for u, nb, af, am, counts in best[:8]:
        print(f"utility {u:6.1f} none_below {nb:.2f} answer_from {af:.2f} answer_margin {am:.2f} {counts}")
    u, counts = utility(obs, base.in_scope_coef, base.correct_coef, base.none_below, base.answer_from,
                        base.answer_margin)
    print(f"current policy: utility {u:.1f} {counts}")
    suggestion_sweep(obs, base.in_scope_coef, base)
    print(f"in_scope_coef: tuple[float, ...] = {in_coef}   # {IN_SCOPE_FEATURES}")
    print(f"correct_coef: tuple[float, ...] = {ok_coef}   # {CORRECT_FEATURES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
