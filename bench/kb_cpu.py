"""Process CPU time per question of the knowledge-base matcher: `ask` on the bundled knowledge base, `ask` on the
synthesised 5,000-entry one, and the analyzer alone.

Each measure asks each of its questions once, in a fresh process after the knowledge base is loaded (so caches keyed
on tokens start as cold as the code leaves them at load; nothing is asked twice), then once more (`warm`: every
question seen). Run it a few times for each version, interleaved, and keep the minimum:

    for i in 1 2 3; do
      .venv/bin/python bench/kb_cpu.py --code /work/main; .venv/bin/python bench/kb_cpu.py
    done

Measures: `ask` (policy questions of bench/mix, bundled knowledge base), `analyze` (the same questions, the
bundled knowledge base's analyzer), `big` (the bundled evaluation questions, 5,000 entries).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb_questions import load_kb, questions, use_code  # noqa: E402


def per_question(fn, items: list[str]) -> float:
    """CPU µs per item of one pass of fn over items."""
    t = time.process_time()
    for q in items:
        fn(q)
    return (time.process_time() - t) / len(items) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", help="import the knowledge package from this checkout (default: this one)")
    ap.add_argument("--measures", default="ask,analyze,big")
    args = ap.parse_args(argv)
    use_code(args.code)
    label = args.code or "this checkout"
    out = []
    for measure in args.measures.split(","):
        kb = load_kb("big" if measure == "big" else "policy")
        items = questions("big" if measure == "big" else "policy")
        fn = kb.analyzer.analyze if measure == "analyze" else kb.ask
        cold = per_question(fn, items)
        warm = per_question(fn, items)
        out.append(f"{measure} {cold:7.1f} µs (warm {warm:7.1f})")
    print(f"{label:<16} " + "   ".join(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
