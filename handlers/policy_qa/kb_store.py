"""The deployment's own knowledge base: the directory staff edit from the console (`LINLI_KB_DIR`, default
`data/kb`), never the bundled one (knowledge/data, which stays as shipped).

The first edit copies the knowledge base in use into the deployment directory. Every edit is then staged in a
temporary copy of that directory and validated there in full (the same load every server does, plus checks that
the edited entry landed where intended and that no other entry changed); only then is the one changed file
replaced, atomically. Edits of an existing entry rewrite just that entry's lines in its own file (comments and the
other entries stay as written); new entries go to `local.yaml`. Writers are serialised by a lock file, and an edit
based on an outdated version of the entry is refused. Asking the servers to switch is the caller's part
(`handlers.policy_qa.service.request_reload`).

All functions here are blocking file work: call them through `asyncio.to_thread`.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from knowledge import Entry, KnowledgeBase, KnowledgeBaseError
from knowledge.loader import BUNDLED_DIR, RESOURCE_FILES, entry_files, load_entries

DEFAULT_DIR = "data/kb"
LOCAL_FILE = "local.yaml"
LOCAL_HEADER = "# 工作台添加的条目（由邻里工作台写入；也可以手工编辑，保存前请用 linli kb check 校验）\n"
LOCK_FILE = ".lock"
MAX_QUESTIONS = 30
MAX_KEYWORDS = 30
LIMITS = {"title": 200, "answer": 4000, "source": 300}
_SPLIT_KEYWORDS = re.compile(r"[,，、;；\s]+")


class KbStoreError(ValueError):
    """An edit that cannot be made; `problems` says why, in Chinese, for the page."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


class Conflict(KbStoreError):
    """The entry changed since the editor loaded it."""


@dataclass(frozen=True)
class Draft:
    """One entry as submitted by staff (already split into lists)."""

    id: str
    title: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    source: str

    def as_yaml_dict(self) -> dict:
        data: dict = {"id": self.id, "title": self.title}
        if self.questions:
            data["questions"] = list(self.questions)
        if self.keywords:
            data["keywords"] = _Flow(self.keywords)
        data["answer"], data["source"] = self.answer, self.source
        return data


@dataclass(frozen=True)
class Saved:
    entry: Entry
    kb: KnowledgeBase  # the validated knowledge base as it now is in the deployment directory
    file: str
    created_directory: bool


# ---- pure parts ------------------------------------------------------------------------------------------------


def parse_form(values: dict[str, str], entry_id: str) -> tuple[Draft | None, dict[str, str]]:
    """A Draft from the edit form (`questions` one per line, `keywords` separated by commas, 、 or spaces),
    or None and the problems by field name."""
    errors: dict[str, str] = {}
    text = {k: (values.get(k) or "").strip() for k in ("title", "answer", "source")}
    for name, label in (("title", "标题（标准问法）"), ("answer", "答案"), ("source", "依据")):
        if not text[name]:
            errors[name] = f"请填写{label}"
        elif len(text[name]) > LIMITS[name]:
            errors[name] = f"{label}不能超过 {LIMITS[name]} 字"
    questions = tuple(dict.fromkeys(q.strip() for q in (values.get("questions") or "").splitlines() if q.strip()))
    if len(questions) > MAX_QUESTIONS:
        errors["questions"] = f"其他问法最多 {MAX_QUESTIONS} 条"
    elif any(len(q) > 200 for q in questions):
        errors["questions"] = "每条问法不能超过 200 字"
    keywords = tuple(dict.fromkeys(k for k in _SPLIT_KEYWORDS.split(values.get("keywords") or "") if k))
    if len(keywords) > MAX_KEYWORDS:
        errors["keywords"] = f"关键词最多 {MAX_KEYWORDS} 个"
    elif any(len(k) > 30 for k in keywords):
        errors["keywords"] = "每个关键词不能超过 30 字"
    if errors:
        return None, errors
    # single lines only where the loader expects them; the answer keeps its line breaks
    title, source = " ".join(text["title"].split()), " ".join(text["source"].split())
    answer = "\n".join(line.rstrip() for line in text["answer"].replace("\r\n", "\n").split("\n"))
    return Draft(entry_id, title, questions, keywords, answer, source), {}


def fingerprint(entry: Entry) -> str:
    """A short digest of an entry's content, carried by the edit form to detect concurrent edits."""
    data = asdict(entry)
    data.pop("file", None)
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


class _Flow(list):
    """A list written on one line (`keywords: [a, b]`), as the bundled files do."""


class _Dumper(yaml.SafeDumper):
    """Writes entries the way the bundled files are written: list items indented under their key, keywords
    on one line, multi-line answers as literal blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _flow(dumper: yaml.SafeDumper, value: _Flow):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, _flow)


def entry_block(draft: Draft) -> str:
    """The YAML lines of one entry, as an item of a top-level list (`- id: ...`)."""
    text = yaml.dump([draft.as_yaml_dict()], Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=10_000, indent=2)
    return text if text.endswith("\n") else text + "\n"


def _entry_start(entry_id: str) -> re.Pattern[str]:
    return re.compile(rf"^-\s+id:\s*(['\"]?){re.escape(entry_id)}\1\s*(#.*)?$")


def replace_block(text: str, entry_id: str, block: str) -> str | None:
    """`text` with the lines of entry `entry_id` replaced by `block`; None when the entry cannot be located
    by its lines (then the caller rewrites the whole file)."""
    lines = text.splitlines(keepends=True)
    pattern = _entry_start(entry_id)
    starts = [i for i, line in enumerate(lines) if pattern.match(line.rstrip("\r\n"))]
    if len(starts) != 1:
        return None
    start = end = starts[0]
    end += 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    while end - 1 > start and not lines[end - 1].strip():  # blank lines before the next entry stay
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def append_block(text: str, block: str) -> str:
    if not text.strip():
        return LOCAL_HEADER + block
    return text.rstrip("\n") + "\n\n" + block


def rewrite_file(text: str, entry_id: str, draft: Draft) -> str:
    """The whole file dumped again with the entry replaced, keeping its leading comment lines."""
    header = "".join(line for line in text.splitlines(keepends=True)[:5] if line.startswith("#"))
    data = yaml.safe_load(text) or []
    data = [draft.as_yaml_dict() if isinstance(d, dict) and str(d.get("id", "")).strip() == entry_id else d
            for d in data]
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=10_000, indent=2)
    return header + body


def _parsed(text: str) -> list | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, list) else None


def edited_text(text: str, entry_id: str, draft: Draft) -> str:
    """The file's new text: the entry's lines replaced in place when that parses to exactly the intended
    change, the whole file rewritten otherwise."""
    original = _parsed(text) or []
    wanted = [draft.as_yaml_dict() if isinstance(d, dict) and str(d.get("id", "")).strip() == entry_id else d
              for d in original]
    candidate = replace_block(text, entry_id, entry_block(draft))
    if candidate is not None and _parsed(candidate) == wanted:
        return candidate
    return rewrite_file(text, entry_id, draft)


def next_local_id(existing: set[str]) -> str:
    numbers = [int(m.group(1)) for i in existing if (m := re.fullmatch(r"local-(\d+)", i))]
    return f"local-{max(numbers, default=0) + 1}"


# ---- the directory ---------------------------------------------------------------------------------------------


def deployment_dir(settings) -> Path:
    raw = (settings.extra.get("LINLI_KB_DIR") or "").strip() if settings is not None else ""
    return Path(raw or DEFAULT_DIR).expanduser().resolve()


def is_bundled(path: Path) -> bool:
    bundled = BUNDLED_DIR.resolve()
    path = path.resolve()
    return path == bundled or bundled in path.parents or path in bundled.parents


class KbStore:
    """The deployment directory, seeded (on first write) from `seed`: the directory of the knowledge base in
    use, or the bundled one."""

    def __init__(self, directory: Path, seed: Path | None = None):
        self.directory = Path(directory)
        self.seed = Path(seed) if seed is not None else BUNDLED_DIR

    @property
    def initialized(self) -> bool:
        return self.directory.is_dir() and bool(entry_files(self.directory))

    @property
    def source(self) -> Path:
        """Where the entries to edit are read from: the deployment directory once it has entries."""
        return self.directory if self.initialized else self.seed

    def entries(self) -> list[Entry]:
        return load_entries(self.source)

    def find(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)

    def validate(self) -> KnowledgeBase:
        """Load the knowledge base to be edited in full, as the servers would (raises KnowledgeBaseError)."""
        return KnowledgeBase.load(self.source)

    @contextmanager
    def _locked(self):
        if is_bundled(self.directory):
            raise KbStoreError(["部署知识库目录（LINLI_KB_DIR）不能设在内置知识库目录里，请改到 data/kb 等目录"])
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self.directory / LOCK_FILE, "a+")
        except OSError as exc:
            raise KbStoreError([f"无法写入知识库目录 {self.directory}：{exc.strerror or exc}"]) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()  # releases the lock

    def save(self, draft: Draft, *, new: bool, base: str | None = None) -> Saved:
        """Write `draft` (a new entry, or a new version of the entry with its id) after validating the whole
        knowledge base with it. `base` is the fingerprint the editor started from (refused if it changed)."""
        with self._locked():
            created = not self.initialized
            source = self.source
            try:
                before = load_entries(source)
            except KnowledgeBaseError as exc:
                raise KbStoreError(["要修改的知识库本身校验不通过，请先修正：", *exc.problems[:10]]) from None
            by_id = {e.id: e for e in before}
            if new:
                if draft.id in by_id:
                    raise Conflict([f"条目编号 {draft.id} 已存在"])
                target = LOCAL_FILE
            else:
                old = by_id.get(draft.id)
                if old is None:
                    raise Conflict([f"条目 {draft.id} 已不存在（可能被他人删除或改名）"])
                if base is not None and fingerprint(old) != base:
                    raise Conflict(["该条目在您打开编辑页之后已被修改，请重新打开编辑页，在最新内容上修改"])
                target = old.file
            with tempfile.TemporaryDirectory(prefix="linli-kb-") as tmp:
                staging = Path(tmp)
                for path in source.iterdir():
                    if path.is_file() and (path.suffix in (".yaml", ".yml") or path.name in RESOURCE_FILES):
                        shutil.copy2(path, staging / path.name)
                target_path = staging / target
                text = target_path.read_text(encoding="utf-8") if target_path.exists() else ""
                changed = append_block(text, entry_block(draft)) if new else edited_text(text, draft.id, draft)
                target_path.write_text(changed, encoding="utf-8")
                kb = self._check(staging, before, draft.id, target)
                if created:
                    for path in sorted(staging.iterdir()):
                        _replace(self.directory / path.name, path.read_bytes())
                else:
                    _replace(self.directory / target, changed.encode("utf-8"))
            return Saved(kb.get(draft.id), kb, target, created)

    @staticmethod
    def _check(staging: Path, before: list[Entry], entry_id: str, target: str) -> KnowledgeBase:
        try:
            kb = KnowledgeBase.load(staging)
        except KnowledgeBaseError as exc:
            raise KbStoreError(["修改后的知识库校验不通过，未保存：", *exc.problems[:10]]) from None
        saved = kb.get(entry_id)
        others_before = {e.id: e for e in before if e.id != entry_id}
        others_after = {e.id: e for e in kb.entries if e.id != entry_id}
        if saved is None or saved.file != target or others_before != others_after:
            raise KbStoreError(["保存时出现意外（其他条目会被改动），未保存；请检查知识库文件"])
        return kb


def _replace(path: Path, data: bytes) -> None:
    """Write `path` atomically: a reader sees the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
