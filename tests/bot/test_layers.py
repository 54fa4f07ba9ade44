"""The layers keep their jobs: every INSERT / UPDATE / DELETE statement is built in `storage/` (the repositories),
never in a feature or the kernel, so a reader finds each table's writes in one place."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"insert", "update", "delete"}


def write_statements(path: Path) -> list[int]:
    """Lines of calls to SQLAlchemy's insert / update / delete constructors in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.asname or alias.name for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
             for alias in node.names if alias.name in WRITES}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names]


def test_the_detector_sees_a_write():
    sample = ROOT / "storage" / "repositories" / "leases.py"
    assert write_statements(sample), "the check would pass vacuously"


def test_writes_are_built_only_in_storage():
    outside = [f"{path.relative_to(ROOT)}:{line}"
               for folder in ("bot", "handlers", "knowledge") for path in sorted((ROOT / folder).rglob("*.py"))
               for line in write_statements(path)]
    assert outside == [], "build these statements in storage/repositories: " + ", ".join(outside)
