"""The fixed question lists that bench/kb_same.py and bench/kb_cpu.py ask, and the knowledge bases they ask them of.

Sets (name → knowledge-base directory, None for the bundled one, and questions):
  * `policy`: bench/mix/policy_questions.txt (the webhook benchmark's 2,443 policy phrasings), bundled knowledge base;
  * `bundled`: every split of tests/data/kb_eval.yaml, bundled knowledge base;
  * `terse`, `faq`, `civil`: bench/kb_sets/NAME/questions.yaml, asked of bench/kb_sets/NAME/kb;
  * `big`: the bundled evaluation questions asked of the 5,000-entry knowledge base bench/kb_synth.py synthesises.
The held-out sets (retrofit, facts) are never read here.

`--code DIR` (in both scripts) imports the `knowledge` package from another checkout (e.g. /work/main), so that the
same questions are asked of two versions of the code from one interpreter.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIT_SETS = ("terse", "faq", "civil")
SETS = ("policy", "bundled", *FIT_SETS, "big")


def use_code(directory: str | None) -> None:
    """Import `knowledge` from `directory` (default: this checkout). Call before importing knowledge."""
    sys.path.insert(0, str(Path(directory).resolve() if directory else ROOT))


def _yaml_questions(path: Path) -> list[str]:
    return [str(item["q"]) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


def questions(name: str) -> list[str]:
    if name == "policy":
        text = (ROOT / "bench" / "mix" / "policy_questions.txt").read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip()]
    if name in ("bundled", "big"):
        splits = yaml.safe_load((ROOT / "tests" / "data" / "kb_eval.yaml").read_text(encoding="utf-8"))
        return [str(item["q"]) for rows in splits.values() for item in rows]
    if name in FIT_SETS:
        return _yaml_questions(ROOT / "bench" / "kb_sets" / name / "questions.yaml")
    raise SystemExit(f"unknown set {name!r} (known: {', '.join(SETS)})")


def load_kb(name: str, big: int = 5000):
    """The knowledge base set `name` is asked of (the synthesised one is written to a temporary directory)."""
    from knowledge import KnowledgeBase

    if name in FIT_SETS:
        return KnowledgeBase.load(ROOT / "bench" / "kb_sets" / name / "kb")
    if name == "big":
        sys.path.insert(0, str(ROOT / "bench"))
        from kb_synth import synthesize, write_kb

        items = synthesize(KnowledgeBase.load().entries, big)
        with tempfile.TemporaryDirectory() as tmp:
            write_kb(items, Path(tmp))
            return KnowledgeBase.load(Path(tmp))
    return KnowledgeBase.load()
