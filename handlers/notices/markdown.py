"""A small, safe Markdown subset → HTML (pure). Everything the author wrote is escaped; only our own tags are emitted.

Blocks: paragraphs (a single line break is kept as <br>), headings `#`–`###` (rendered as h2–h4, the page's h1 is
the title), lists `- ` / `* ` / `1. `, quotes `> `, rules `---`. Inline: `**bold**`, `` `code` ``,
`[text](https://…)` and bare http(s) links (other schemes are left as text, so no `javascript:`). No raw HTML,
no images, no attributes from the author beyond an escaped http(s) URL.

Also `plain_lines(text)`: the body as plain text lines (for summaries and chat).
"""
from __future__ import annotations

import re
from html import escape

_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|\[(?P<label>[^\[\]\n]+)\]\((?P<href>https?://[^\s()<>\"'\[\]]+)\)"
    r"|(?P<url>https?://[^\s<>\"'()（）【】，。；！？、]+)"
)
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_ORDERED = re.compile(r"^\s*\d{1,3}[.)、]\s*(.*)$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")
_RULE = re.compile(r"^\s*(-{3,}|\*{3,}|_{3,})\s*$")
_MAX_CHARS = 50_000
# Quotes nest at most this deep; deeper `>` marks stay text. Each level renders its lines once more, so the work is
# linear in the text (1,200 nested quotes used to recurse until RecursionError: a lasting 500 on /n/<id>).
MAX_QUOTE_DEPTH = 4
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>\"'\[\]]+)\)")  # the inline link, for plain text


def _link(href: str, label: str) -> str:
    return f'<a href="{escape(href, quote=True)}" rel="nofollow noopener noreferrer">{label}</a>'


def inline(text: str) -> str:
    """Escape `text` and apply the inline marks."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(escape(text[pos:m.start()], quote=False))
        if m.group("code") is not None:
            out.append(f"<code>{escape(m.group('code'), quote=False)}</code>")
        elif m.group("bold") is not None:
            out.append(f"<strong>{escape(m.group('bold'), quote=False)}</strong>")
        elif m.group("href") is not None:
            out.append(_link(m.group("href"), escape(m.group("label"), quote=False)))
        else:
            url = m.group("url")
            out.append(_link(url, escape(url, quote=False)))
        pos = m.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def _kind(line: str, depth: int = 0) -> str:
    if not line.strip():
        return "blank"
    if _RULE.match(line):
        return "rule"
    if _HEADING.match(line):
        return "heading"
    if _BULLET.match(line):
        return "ul"
    if _ORDERED.match(line):
        return "ol"
    if depth < MAX_QUOTE_DEPTH and _QUOTE.match(line):
        return "quote"
    return "text"


def render(source: str) -> str:
    """Markdown subset → HTML fragment (safe to insert unescaped). Linear in the text: every pattern is matched
    without backtracking over the line, and quotes nest at most MAX_QUOTE_DEPTH levels."""
    return _render((source or "")[:_MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n"), 0)


def _render(lines: list[str], depth: int) -> str:
    html: list[str] = []
    i = 0
    while i < len(lines):
        line, kind = lines[i], _kind(lines[i], depth)
        if kind == "blank":
            i += 1
        elif kind == "rule":
            html.append("<hr>")
            i += 1
        elif kind == "heading":
            m = _HEADING.match(line)
            level = len(m.group(1)) + 1
            html.append(f"<h{level}>{inline(m.group(2).strip())}</h{level}>")
            i += 1
        elif kind in ("ul", "ol"):
            pattern = _BULLET if kind == "ul" else _ORDERED
            items = []
            while i < len(lines) and _kind(lines[i], depth) == kind:
                items.append(f"<li>{inline(pattern.match(lines[i]).group(1).strip())}</li>")
                i += 1
            html.append(f"<{kind}>{''.join(items)}</{kind}>")
        elif kind == "quote":
            quoted = []
            while i < len(lines) and _kind(lines[i], depth) == "quote":
                quoted.append(_QUOTE.match(lines[i]).group(1))
                i += 1
            html.append(f"<blockquote>{_render(quoted, depth + 1)}</blockquote>")
        else:
            para = []
            while i < len(lines) and _kind(lines[i], depth) == "text":
                para.append(inline(lines[i].strip()))
                i += 1
            html.append("<p>" + "<br>".join(para) + "</p>")
    return "\n".join(html)


def plain_lines(source: str) -> list[str]:
    """Non-empty lines of the body without Markdown marks (headings, bullets, bold, link syntax)."""
    result = []
    for line in (source or "")[:_MAX_CHARS].replace("\r", "\n").split("\n"):
        if _RULE.match(line) or not line.strip():
            continue
        for pattern in (_HEADING, _BULLET, _ORDERED, _QUOTE):
            m = pattern.match(line)
            if m:
                line = m.group(m.lastindex)
                break
        line = _LINK.sub(r"\1", line)
        line = line.replace("**", "").replace("`", "").strip()
        if line:
            result.append(line)
    return result
