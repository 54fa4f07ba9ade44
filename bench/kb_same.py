"""Write every outcome of Matcher.ask over fixed question lists to a file, to diff two versions of the matcher.

One line per question: set, question, outcome, confidence and the top-3 matches (id and score, 6 decimals); with
`--analysis`, also each question's analysis on the knowledge base's analyzer (tokens, pinyin bigrams, intents,
negated words, character bigrams). The question lists are those of bench/kb_questions.py.

    .venv/bin/python bench/kb_same.py --out /tmp/after.txt [--analysis] [--sets policy,bundled,...] [--code /work/main]
    diff /tmp/before.txt /tmp/after.txt && echo identical

Run both sides with the same PYTHONHASHSEED: the association re-ordering sums over a set of the question's words, so
an exact tie between two entries (the synthesised knowledge base's paraphrase variants) can fall either way from one
hash seed to another, on main as well (one question of the `big` set does).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb_questions import SETS, load_kb, questions, use_code  # noqa: E402


def describe(kb, name: str, question: str, with_analysis: bool) -> list[str]:
    a = kb.ask(question, top=3)
    matches = " ".join(f"{m.entry.id}:{m.score:.6f}" for m in a.matches)
    lines = [f"{name}\t{question}\t{a.outcome}\t{a.confidence:.6f}\t{matches}"]
    if with_analysis:
        x = kb.analyzer.analyze(question)
        lines.append("\t".join(["  analysis", " ".join(x.tokens), " ".join(x.grams), " ".join(x.intents),
                                " ".join(x.negated), " ".join(x.bigrams)]))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--analysis", action="store_true", help="also write each question's analysis")
    ap.add_argument("--code", help="import the knowledge package from this checkout (default: this one)")
    args = ap.parse_args(argv)
    use_code(args.code)
    lines: list[str] = []
    count = 0
    for name in args.sets.split(","):
        kb = load_kb(name)
        for q in questions(name):
            lines.extend(describe(kb, name, q, args.analysis))
            count += 1
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{count} questions written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
