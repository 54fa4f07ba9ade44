"""Evaluate the knowledge-base matcher against the development and held-out question sets.

Splits (tests/data/kb_eval.yaml): `dev` .. `dev5` and `dev6` (situations, hotline records, policy terms, dialect,
homophone typos, the wrong institution) are used for diagnosis and tuning;
`heldout`, `heldout2` (the second written before the intent/vocabulary changes), `heldout3` (written before the
calibrated-decision round), `heldout4` (written before the suggestions round) and `heldout5` (written before the
negation/unknown-word round) are only reported — misses are never listed for them.

Splits written before entries were added to the knowledge base are also reported against the knowledge base
as it was then (see ADDED_AFTER). Prints, for linli's matcher and for the plain-BM25-over-jieba baseline:
top-1 accuracy and top-3 recall on in-scope questions, how often in-scope questions get a confident correct /
confident wrong answer, the confident false-answer rate on out-of-scope questions, how often out-of-scope questions
are given suggestions (a "none" that offers the nearest entries; such lists count for top-1/top-3 like the
ambiguous list, never as an answer), and p50/p99 time per question, for the
bundled knowledge base and for a synthesised 5,000-entry one; and the start-up time (load + index).

    .venv/bin/python bench/kb_eval.py [--eval tests/data/kb_eval.yaml] [--big 5000] [--show-misses] [--confusions]
                                      [--splits dev,dev2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb_baseline import PlainBM25  # noqa: E402
from kb_synth import base_id, synthesize, write_kb  # noqa: E402

from knowledge import KnowledgeBase  # noqa: E402

TUNING_SPLITS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")  # the only splits whose misses are ever listed

# Entries added to the bundled knowledge base after a split was written. That split's labels cannot name them,
# so a question one of them now answers counts as a miss (or, for an out-of-scope question, a false answer)
# even where the new entry is the better answer. Such splits are also reported against the knowledge base as
# it was when they were written (these entries left out): same method, same vocabulary, same phrasings.
COVERAGE_ROUND_2 = frozenset({
    "renovation-rules", "shared-facility-repair", "private-repair", "elevator-problems", "fire-passage-clutter",
    "high-rise-throwing", "nuisance-behaviour", "theft-liability", "management-statute", "owners-assembly-meeting",
    "property-company-leaves", "linli-subscriptions", "linli-privacy",
})
ADDED_AFTER = {"dev": COVERAGE_ROUND_2, "heldout": COVERAGE_ROUND_2, "heldout2": COVERAGE_ROUND_2}


def load_eval(path: Path) -> dict[str, list[tuple[str, set[str] | None]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {}
    for split, items in data.items():
        rows = []
        for item in items:
            ids = item["id"]
            rows.append((str(item["q"]), None if ids is None else set([ids] if isinstance(ids, str) else ids)))
        out[split] = rows
    return out


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def evaluate(ask, rows, map_id=lambda s: s, misses: list | None = None) -> dict:
    """`ask(q)` returns (outcome, [ids]); a "none" with ids is a no-match that offers suggestions."""
    inscope = [(q, ids) for q, ids in rows if ids is not None]
    oos = [q for q, ids in rows if ids is None]
    top1 = top3 = conf_ok = conf_bad = in_suggested = in_none = 0
    times = []
    for q, ids in inscope:
        t = time.perf_counter()
        outcome, got = ask(q)
        times.append(time.perf_counter() - t)
        got = [map_id(g) for g in got]
        if got[:1] and got[0] in ids:
            top1 += 1
        elif misses is not None:
            misses.append((q, sorted(ids), outcome, got[:3]))
        if any(g in ids for g in got[:3]):
            top3 += 1
        if outcome == "none":
            in_none += 1
            in_suggested += bool(got)
        if outcome == "answer":
            if got[0] in ids:
                conf_ok += 1
            else:
                conf_bad += 1
    false_ans = shown = suggested = 0
    for q in oos:
        t = time.perf_counter()
        outcome, got = ask(q)
        times.append(time.perf_counter() - t)
        if outcome == "answer":
            false_ans += 1
            if misses is not None:
                misses.append((q, None, outcome, got[:3]))
        elif outcome == "ambiguous":
            shown += 1
        elif got:
            suggested += 1
    n, m = max(1, len(inscope)), max(1, len(oos))
    return {
        "n_in": len(inscope), "n_oos": len(oos), "top1": top1 / n, "top3": top3 / n,
        "conf_ok": conf_ok / n, "conf_bad": conf_bad / n, "false_answer": false_ans / m, "oos_listed": shown / m,
        "oos_suggested": suggested / m, "in_suggested": in_suggested / n, "in_none": in_none / n,
        "times": times,
    }


def _confusions(misses) -> Counter:
    """(expected entry, entry ranked first) pairs of in-scope top-1 misses; the first expected id names a group."""
    out: Counter = Counter()
    for _, ids, _, got in misses:
        if ids is not None and got:
            out[(ids[0] if len(ids) == 1 else "|".join(ids), got[0])] += 1
    return out


def quantiles(times: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return p50, p99


def report(name: str, r: dict) -> None:
    p50, p99 = quantiles(r["times"])
    print(f"  {name:<26} top1 {pct(r['top1'])}  top3 {pct(r['top3'])}  "
          f"answered-right {pct(r['conf_ok'])}  answered-wrong {pct(r['conf_bad'])}  "
          f"oos-false-answer {pct(r['false_answer'])} (listed {pct(r['oos_listed'])})  "
          f"out-of-scope given suggestions {pct(r['oos_suggested'])} (in-scope {pct(r['in_suggested'])} of {pct(r['in_none'])} none)  "
          f"p50 {p50:.2f} ms  p99 {p99:.2f} ms")


def linli_ask(kb):
    def ask(q):
        a = kb.ask(q, top=3)
        return a.outcome, [m.entry.id for m in a.matches]
    return ask


def baseline_ask(bm):
    def ask(q):
        ranked = bm.rank(q, 3)
        return ("answer" if ranked else "none"), [e.id for _, e in ranked]
    return ask


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=ROOT / "tests" / "data" / "kb_eval.yaml")
    ap.add_argument("--big", type=int, default=5000, help="size of the synthesised knowledge base (0: skip)")
    ap.add_argument("--repeat", type=int, default=3, help="timing passes over the questions")
    ap.add_argument("--show-misses", action="store_true", help="list dev-set misses (never held-out ones)")
    ap.add_argument("--splits", default="", help="comma-separated splits to evaluate (default: all)")
    ap.add_argument("--confusions", action="store_true",
                    help="count expected → got entry pairs of dev-set top-1 misses (never held-out ones)")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    kb = KnowledgeBase.load()
    startup = time.perf_counter() - t
    base = PlainBM25(kb.entries)
    splits = load_eval(args.eval)
    if args.splits:
        splits = {k: v for k, v in splits.items() if k in args.splits.split(",")}
    confusions: Counter = Counter()
    print(f"bundled knowledge base: {len(kb)} entries; start-up (import excluded, load + jieba + index) {startup:.2f} s")
    for split, rows in splits.items():
        n_in = sum(1 for _, i in rows if i is not None)
        print(f"[{split}] {n_in} in-scope, {len(rows) - n_in} out-of-scope questions")
        listed = (args.show_misses or args.confusions) and split in TUNING_SPLITS
        misses: list = [] if listed else None
        r = evaluate(linli_ask(kb), rows, misses=misses)
        for _ in range(args.repeat - 1):
            r["times"] += evaluate(linli_ask(kb), rows)["times"]
        report("linli", r)
        if split in ADDED_AFTER:
            kept = [e for e in kb.entries if e.id not in ADDED_AFTER[split]]
            as_written = KnowledgeBase(kept, kb.analyzer, kb.directory)
            report(f"linli ({len(kept)} as written)", evaluate(linli_ask(as_written), rows))
        report("baseline plain BM25", evaluate(baseline_ask(base), rows))
        if args.show_misses:
            for q, ids, outcome, got in misses or []:
                print(f"    MISS {q!r} expected={ids} outcome={outcome} got={got}")
        if args.confusions:
            confusions.update(_confusions(misses or []))
    if confusions:
        print("confusions on the development splits (expected → ranked first; * an entry of the last coverage round):")
        for (want, got), n in confusions.most_common():
            flag = "*" if got in COVERAGE_ROUND_2 or want in COVERAGE_ROUND_2 else " "
            print(f"  {flag} {n}× {want} → {got}")

    if args.big:
        items = synthesize(kb.entries, args.big)
        with tempfile.TemporaryDirectory() as tmp:
            write_kb(items, Path(tmp))
            t = time.perf_counter()
            big = KnowledgeBase.load(Path(tmp))
            load_s = time.perf_counter() - t
        print(f"synthesised knowledge base: {len(big)} entries; load from YAML + index {load_s:.2f} s")
        big_base = PlainBM25(big.entries)
        for split, rows in splits.items():
            r = evaluate(linli_ask(big), rows, map_id=base_id)
            for _ in range(args.repeat - 1):
                r["times"] += evaluate(linli_ask(big), rows, map_id=base_id)["times"]
            report(f"linli 5k [{split}]", r)
            report(f"baseline 5k [{split}]", evaluate(baseline_ask(big_base), rows, map_id=base_id))
        print("  (5k: paraphrase variants map to their base id; duplicates make the outcome mostly 'ambiguous')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
