"""Reading and validating knowledge-base files.

A knowledge-base directory holds one YAML file per topic (a list of entries), plus two optional
resource files that are not entries: `synonyms.yaml` (aliases and typos) and `userdict.txt` (jieba user
dictionary, one `word [freq] [tag]` a line). Every problem found is collected, naming the file and the
entry (id, or position when the id is missing), and raised together as one KnowledgeBaseError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .model import Entry, KnowledgeBaseError

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
SYNONYMS_FILE = "synonyms.yaml"
USERDICT_FILE = "userdict.txt"
RESOURCE_FILES = {SYNONYMS_FILE, USERDICT_FILE}

REQUIRED_FIELDS = ("id", "title", "answer")
# the law or document an answer rests on, shown to residents as 「依据」; entries about using linli itself have none
OPTIONAL_FIELDS = ("source",)
LIST_FIELDS = ("questions", "keywords")
KNOWN_FIELDS = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS) | set(LIST_FIELDS)
# libyaml's loader is ~7x faster than the pure-Python one; both are safe loaders.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# YAML folded scalars (`>-`) join lines with a space, which Chinese text must not have.
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])[ \t]*\n?[ \t]+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\n(?=[^\x00-\x7f])")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class Resources:
    """Synonym table and user dictionary shared by the question side and the entry side."""

    aliases: dict[str, str] = field(default_factory=dict)  # alias or typo -> canonical term
    canonicals: set[str] = field(default_factory=set)
    userwords: list[tuple[str, int | None, str | None]] = field(default_factory=list)


def entry_files(directory: Path) -> list[Path]:
    """The YAML entry files of a directory, in a stable order."""
    files = [p for p in directory.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml")]
    return sorted((p for p in files if p.name not in RESOURCE_FILES), key=lambda p: p.name)


def _where(fname: str, index: int, raw: object) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return f"{fname} 第{index}条（id={raw['id'].strip()}）"
    return f"{fname} 第{index}条"


def _parse_entry(fname: str, index: int, raw: object, problems: list[str]) -> Entry | None:
    where = _where(fname, index, raw)
    if not isinstance(raw, dict):
        problems.append(f"{where}：条目应为键值映射（id、title、answer……），实际是 {type(raw).__name__}")
        return None
    ok = True
    unknown = sorted(str(k) for k in raw if k not in KNOWN_FIELDS)
    if unknown:
        problems.append(f"{where}：未知字段 {', '.join(unknown)}（允许：{', '.join(sorted(KNOWN_FIELDS))}）")
        ok = False
    values: dict[str, str] = {}
    for name in REQUIRED_FIELDS:
        value = raw.get(name)
        if value is None:
            problems.append(f"{where}：缺少字段 {name}")
            ok = False
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.append(f"{where}：字段 {name} 应为文本")
            ok = False
        elif not str(value).strip():
            problems.append(f"{where}：字段 {name} 为空")
            ok = False
        else:
            values[name] = _CJK_GAP.sub("", str(value).strip())
    for name in OPTIONAL_FIELDS:
        value = raw.get(name)
        if value is None:
            values[name] = ""
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.append(f"{where}：字段 {name} 应为文本")
            ok = False
        else:
            values[name] = _CJK_GAP.sub("", str(value).strip())
    if "id" in values and not ID_PATTERN.match(values["id"]):
        problems.append(f"{where}：id 只能包含字母、数字、-、_、.，且不能以符号开头")
        ok = False
    lists: dict[str, tuple[str, ...]] = {}
    for name in LIST_FIELDS:
        value = raw.get(name)
        if value is None:
            lists[name] = ()
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            problems.append(f"{where}：字段 {name} 应为文本列表")
            ok = False
            continue
        items = tuple(str(v).strip() for v in value)
        if any(not v for v in items):
            problems.append(f"{where}：字段 {name} 含有空文本")
            ok = False
        lists[name] = tuple(v for v in items if v)
    if not ok:
        return None
    return Entry(
        id=values["id"], title=values["title"], questions=lists["questions"], keywords=lists["keywords"],
        answer=values["answer"], source=values["source"], file=fname,
    )


def load_entries(directory: Path) -> list[Entry]:
    """Read and validate every entry file in `directory`; raise KnowledgeBaseError listing all problems."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeBaseError([f"{directory}：目录不存在"])
    problems: list[str] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    files = entry_files(directory)
    if not files:
        raise KnowledgeBaseError([f"{directory}：没有找到条目文件（*.yaml）"])
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            problems.append(f"{path.name}：无法解析（{' '.join(str(exc).split())}）")
            continue
        if data is None:
            problems.append(f"{path.name}：文件为空")
            continue
        if not isinstance(data, list):
            problems.append(f"{path.name}：顶层应为条目列表（每条以“- id:”开头）")
            continue
        for index, raw in enumerate(data, start=1):
            entry = _parse_entry(path.name, index, raw, problems)
            if entry is None:
                continue
            if entry.id in seen:
                problems.append(f"{_where(path.name, index, raw)}：id 与 {seen[entry.id]} 重复")
                continue
            seen[entry.id] = f"{path.name} 第{index}条"
            entries.append(entry)
    if problems:
        raise KnowledgeBaseError(problems)
    if not entries:
        raise KnowledgeBaseError([f"{directory}：知识库没有任何条目"])
    return entries


def load_synonyms(path: Path, resources: Resources, problems: list[str]) -> None:
    """Merge a synonyms.yaml file into `resources`, appending problems instead of raising."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        problems.append(f"{path.name}：无法解析（{' '.join(str(exc).split())}）")
        return
    if not isinstance(data, dict) or not set(data) <= {"synonyms", "typos"}:
        problems.append(f"{path.name}：顶层应只包含 synonyms 和 typos 两个映射")
        return
    synonyms = data.get("synonyms") or {}
    typos = data.get("typos") or {}
    if not isinstance(synonyms, dict):
        problems.append(f"{path.name}：synonyms 应为“标准词: [别名, …]”的映射")
        synonyms = {}
    if not isinstance(typos, dict):
        problems.append(f"{path.name}：typos 应为“错写: 正确写法”的映射")
        typos = {}
    for canonical, aliases in synonyms.items():
        canonical = str(canonical).strip()
        if isinstance(aliases, str):
            aliases = [aliases]
        if not canonical or not isinstance(aliases, list):
            problems.append(f"{path.name} synonyms.{canonical}：应为别名列表")
            continue
        resources.canonicals.add(canonical)
        for alias in aliases:
            alias = str(alias).strip()
            if not alias or alias == canonical:
                continue
            previous = resources.aliases.get(alias)
            if previous is not None and previous != canonical:
                problems.append(f"{path.name} synonyms.{canonical}：别名“{alias}”已属于“{previous}”")
                continue
            resources.aliases[alias] = canonical
    for wrong, right in typos.items():
        wrong, right = str(wrong).strip(), str(right or "").strip()
        if not wrong or not right:
            problems.append(f"{path.name} typos.{wrong}：错写和正确写法都不能为空")
            continue
        # A typo of an alias resolves straight to the alias's canonical term.
        resources.aliases[wrong] = resources.aliases.get(right, right)


def load_userdict(path: Path, resources: Resources, problems: list[str]) -> None:
    """Read a jieba user dictionary: `word [freq] [tag]` per line, `#` comments allowed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError) as exc:
        problems.append(f"{path.name}：无法读取（{exc}）")
        return
    for number, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        freq: int | None = None
        tag: str | None = None
        if len(parts) >= 2:
            if not parts[1].isdigit():
                problems.append(f"{path.name} 第{number}行：词频应为整数")
                continue
            freq = int(parts[1])
        if len(parts) >= 3:
            tag = parts[2]
        resources.userwords.append((parts[0], freq, tag))


def load_resources(directory: Path | None) -> Resources:
    """Synonyms and user dictionary of `directory`, each falling back to the bundled one when absent."""
    resources = Resources()
    problems: list[str] = []
    base = Path(directory) if directory is not None else BUNDLED_DIR
    syn = base / SYNONYMS_FILE
    load_synonyms(syn if syn.is_file() else BUNDLED_DIR / SYNONYMS_FILE, resources, problems)
    udict = base / USERDICT_FILE
    load_userdict(udict if udict.is_file() else BUNDLED_DIR / USERDICT_FILE, resources, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return resources
