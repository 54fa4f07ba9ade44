"""The deployment's own knowledge base: the directory staff edit from the console (`LINLI_KB_DIR`, default
`data/kb`), never the bundled one (knowledge/data, which stays as shipped).

The first edit copies the knowledge base in use into the deployment directory. Every edit is then staged in a
temporary copy of that directory and validated there in full (the same load every server does, plus checks that
the edited entry landed where intended and that no other entry changed); only then is the one changed file
replaced, atomically. Edits of an existing entry rewrite just that entry's lines in its own file (comments and the
other entries stay as written); new entries go to `local.yaml`; deleting an entry removes its lines (the
file, when no entry is left in it), and the last entry of the knowledge base cannot be deleted. Writers are
serialised by a lock file, and an edit or deletion based on an outdated version of the entry is refused. Asking
the servers to switch is the caller's part (`handlers.policy_qa.console_kb.publish`).

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
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

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


class Missing(Conflict):
    """The entry to change is not (or no longer) in the knowledge base."""


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
    entry: Entry  # as saved (the removed one for `KbStore.delete`)
    kb: KnowledgeBase  # the validated knowledge base as it now is in the deployment directory
    file: str
    created_directory: bool


@dataclass(frozen=True)
class _Plan:
    """One edit, decided once the current entries are read: the entry, its file, and the file's new text from
    the old (None: the file goes)."""

    entry_id: str
    file: str
    change: Callable[[str], str | None]


# ---- pure parts ------------------------------------------------------------------------------------------------


def parse_form(values: dict[str, str], entry_id: str) -> tuple[Draft | None, dict[str, str]]:
    """A Draft from the edit form (`questions` one per line, `keywords` separated by commas, 、 or spaces),
    or None and the problems by field name."""
    questions = (values.get("questions") or "").splitlines()
    keywords = _SPLIT_KEYWORDS.split(values.get("keywords") or "")
    return parse_draft({**values, "questions": questions, "keywords": keywords}, entry_id)


def parse_draft(values: dict, entry_id: str) -> tuple[Draft | None, dict[str, str]]:
    """A Draft from already separated fields (`questions` and `keywords` lists of strings, as the JSON API
    sends them), or None and the problems by field name. An empty `entry_id` lets `KbStore.save` pick one."""
    errors: dict[str, str] = {}
    text: dict[str, str] = {}
    for name, label in (("title", "标题（标准问法）"), ("answer", "答案"), ("source", "依据")):
        raw = values.get(name)
        text[name] = raw.strip() if isinstance(raw, str) else ""
        if raw is not None and not isinstance(raw, str):
            errors[name] = f"{label}应为文字"
        elif not text[name]:
            errors[name] = f"请填写{label}"
        elif len(text[name]) > LIMITS[name]:
            errors[name] = f"{label}不能超过 {LIMITS[name]} 字"
    lists: dict[str, tuple[str, ...]] = {"questions": (), "keywords": ()}
    for name, label, problem_of in (("questions", "其他问法", _questions_problem),
                                    ("keywords", "关键词", _keywords_problem)):
        raw = values.get(name) or []
        if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) for item in raw):
            errors[name] = f"{label}应为文字列表"
            continue
        lists[name] = tuple(dict.fromkeys(item.strip() for item in raw if item.strip()))
        problem = problem_of(lists[name])
        if problem:
            errors[name] = problem
    if errors:
        return None, errors
    # single lines only where the loader expects them; the answer keeps its line breaks
    title, source = " ".join(text["title"].split()), " ".join(text["source"].split())
    answer = "\n".join(line.rstrip() for line in text["answer"].replace("\r\n", "\n").split("\n"))
    return Draft(entry_id, title, lists["questions"], lists["keywords"], answer, source), {}


def _questions_problem(questions: tuple[str, ...]) -> str | None:
    if len(questions) > MAX_QUESTIONS:
        return f"其他问法最多 {MAX_QUESTIONS} 条"
    if any(len(q) > 200 or "\n" in q or "\r" in q for q in questions):
        return "每条问法不能超过 200 字，且不能换行"
    return None


def _keywords_problem(keywords: tuple[str, ...]) -> str | None:
    if len(keywords) > MAX_KEYWORDS:
        return f"关键词最多 {MAX_KEYWORDS} 个"
    if any(len(k) > 30 for k in keywords):
        return "每个关键词不能超过 30 字"
    if any(_SPLIT_KEYWORDS.search(k) for k in keywords):
        return "关键词不能包含空格或逗号、顿号、分号，请分成多个关键词"
    return None


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


def _entry_lines(lines: list[str], entry_id: str) -> tuple[int, int] | None:
    """Where entry `entry_id` is in `lines` (from its `- id:` line to its last non-blank line, exclusive end);
    None when it cannot be located by its lines."""
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
    return start, end


def replace_block(text: str, entry_id: str, block: str) -> str | None:
    """`text` with the lines of entry `entry_id` replaced by `block`; None when the entry cannot be located
    by its lines (then the caller rewrites the whole file)."""
    lines = text.splitlines(keepends=True)
    found = _entry_lines(lines, entry_id)
    if found is None:
        return None
    start, end = found
    return "".join(lines[:start]) + block + "".join(lines[end:])


def remove_block(text: str, entry_id: str) -> str | None:
    """`text` without the lines of entry `entry_id` (and the blank lines after them); comments and the other
    entries stay as written. None when the entry cannot be located by its lines."""
    lines = text.splitlines(keepends=True)
    found = _entry_lines(lines, entry_id)
    if found is None:
        return None
    start, end = found
    while end < len(lines) and not lines[end].strip():
        end += 1
    kept = "".join(lines[:start] + lines[end:])
    return kept.rstrip("\n") + "\n" if end == len(lines) and kept.strip() else kept


def append_block(text: str, block: str) -> str:
    if not text.strip():
        return LOCAL_HEADER + block
    return text.rstrip("\n") + "\n\n" + block


def _with_change(items: list, entry_id: str, draft: Draft | None) -> list:
    """`items` (a file's parsed entries) with entry `entry_id` replaced by `draft`, or left out when None."""
    changed = []
    for item in items:
        if isinstance(item, dict) and str(item.get("id", "")).strip() == entry_id:
            if draft is not None:
                changed.append(draft.as_yaml_dict())
        else:
            changed.append(item)
    return changed


def rewrite_file(text: str, entry_id: str, draft: Draft | None) -> str:
    """The whole file dumped again with the entry replaced (left out when `draft` is None), keeping its leading
    comment lines."""
    header = "".join(line for line in text.splitlines(keepends=True)[:5] if line.startswith("#"))
    data = _with_change(_parsed(text) or [], entry_id, draft)
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=10_000, indent=2)
    return header + body


def _parsed(text: str) -> list | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, list) else None


def edited_text(text: str, entry_id: str, draft: Draft | None) -> str | None:
    """The file's new text with the entry replaced by `draft` (removed when `draft` is None): the entry's lines
    changed in place when that parses to exactly the intended change, the whole file rewritten otherwise.
    None when no entry would be left in the file (the caller removes the file)."""
    wanted = _with_change(_parsed(text) or [], entry_id, draft)
    if not wanted:
        return None
    candidate = remove_block(text, entry_id) if draft is None else replace_block(text, entry_id, entry_block(draft))
    if candidate is not None and _parsed(candidate) == wanted:
        return candidate
    return rewrite_file(text, entry_id, draft)


def next_local_id(existing: set[str]) -> str:
    numbers = [int(m.group(1)) for i in existing if (m := re.fullmatch(r"local-(\d+)", i))]
    return f"local-{max(numbers, default=0) + 1}"


# ---- the directory ---------------------------------------------------------------------------------------------


def deployment_dir(settings) -> Path:
    raw = (settings.kb_dir or "") if settings is not None else ""
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

    def save(self, draft: Draft, *, new: bool, base: str | None = None, dry_run: bool = False) -> Saved:
        """Write `draft` (a new entry, or a new version of the entry with its id) after validating the whole
        knowledge base with it. `base` is the fingerprint the editor started from (refused if it changed). A new
        draft without an id gets the next `local-N`. `dry_run`: validate exactly as for saving, write nothing."""

        def plan(by_id: dict[str, Entry]) -> _Plan:
            if not new:
                target = _current(by_id, draft.id, base).file
                return _Plan(draft.id, target, lambda text: edited_text(text, draft.id, draft))
            chosen = draft if draft.id else replace(draft, id=next_local_id(set(by_id)))
            if chosen.id in by_id:
                raise Conflict([f"条目编号 {chosen.id} 已存在"])
            return _Plan(chosen.id, LOCAL_FILE, lambda text: append_block(text, entry_block(chosen)))

        entry_id, kb, target, created, _ = self._apply(plan, keep=True, write=not dry_run)
        return Saved(kb.get(entry_id), kb, target, created)

    def delete(self, entry_id: str, base: str) -> Saved:
        """Remove entry `entry_id` (at version `base`) from its file after validating the knowledge base
        without it; the file goes when no entry is left in it. `Saved.entry` is the removed entry. The last
        entry of the knowledge base cannot be removed."""

        def plan(by_id: dict[str, Entry]) -> _Plan:
            target = _current(by_id, entry_id, base).file
            if len(by_id) == 1:
                raise KbStoreError(["这是知识库唯一的条目，不能删除（知识库至少要有一个条目）"])
            return _Plan(entry_id, target, lambda text: edited_text(text, entry_id, None))

        _, kb, target, created, before = self._apply(plan, keep=False, write=True)
        return Saved(before[entry_id], kb, target, created)

    def _apply(self, plan: Callable[[dict[str, Entry]], "_Plan"], *, keep: bool, write: bool):
        """The shared edit: under the lock (when writing) read the entries; `plan(by_id)` says which entry,
        which file and how its text changes (or refuses); stage a copy of the directory with that change, validate
        it in full (`keep`: the entry must be in that file afterwards; False: it must be gone; no other entry may
        change), then replace (or remove) that one file. Returns (entry id, kb, file, created, entries before)."""
        with self._locked() if write else nullcontext():
            created = not self.initialized
            source = self.source
            try:
                before = {e.id: e for e in load_entries(source)}
            except KnowledgeBaseError as exc:
                raise KbStoreError(["要修改的知识库本身校验不通过，请先修正：", *exc.problems[:10]]) from None
            step = plan(before)
            with tempfile.TemporaryDirectory(prefix="linli-kb-") as tmp:
                staging = Path(tmp)
                for path in source.iterdir():
                    if path.is_file() and (path.suffix in (".yaml", ".yml") or path.name in RESOURCE_FILES):
                        shutil.copy2(path, staging / path.name)
                target_path = staging / step.file
                changed = step.change(target_path.read_text(encoding="utf-8") if target_path.exists() else "")
                if changed is None:
                    target_path.unlink()
                else:
                    target_path.write_text(changed, encoding="utf-8")
                kb = self._check(staging, list(before.values()), step.entry_id, step.file if keep else None)
                if write:
                    self._publish(staging, step.file, changed, created)
            return step.entry_id, kb, step.file, created, before

    def _publish(self, staging: Path, target: str, changed: str | None, created: bool) -> None:
        if created:  # the first edit: the whole staged directory
            for path in sorted(staging.iterdir()):
                _replace(self.directory / path.name, path.read_bytes())
        elif changed is None:
            (self.directory / target).unlink()
        else:
            _replace(self.directory / target, changed.encode("utf-8"))

    @staticmethod
    def _check(staging: Path, before: list[Entry], entry_id: str, target: str | None) -> KnowledgeBase:
        """The staged directory loads in full, entry `entry_id` is in `target` (gone when None) and no other
        entry changed."""
        try:
            kb = KnowledgeBase.load(staging)
        except KnowledgeBaseError as exc:
            raise KbStoreError(["修改后的知识库校验不通过，未保存：", *exc.problems[:10]]) from None
        saved = kb.get(entry_id)
        others_before = {e.id: e for e in before if e.id != entry_id}
        others_after = {e.id: e for e in kb.entries if e.id != entry_id}
        landed = saved is None if target is None else saved is not None and saved.file == target
        if not landed or others_before != others_after:
            raise KbStoreError(["保存时出现意外（其他条目会被改动），未保存；请检查知识库文件"])
        return kb


def _current(by_id: dict[str, Entry], entry_id: str, base: str | None) -> Entry:
    """The entry to change, refused when it is gone or changed since the editor read version `base`."""
    old = by_id.get(entry_id)
    if old is None:
        raise Missing([f"条目 {entry_id} 已不存在（可能被他人删除或改名）"])
    if base is not None and fingerprint(old) != base:
        raise Conflict(["该条目在您打开之后已被修改，请重新打开，在最新内容上修改"])
    return old


def _replace(path: Path, data: bytes) -> None:
    """Write `path` atomically: a reader sees the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
