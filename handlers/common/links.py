"""Links to addresses that came from a resident or from outside (a photo's PicUrl, a link someone typed): only
`http://` and `https://` may become a link. `javascript:`, `data:`, `vbscript:` and anything else are shown as
text, never as `href`.

`http_url` is the Jinja filter every template uses for such an address (registered in the console's environment and
the public notice pages'); `tests/console/test_links.py` fails on any `href="{{ … }}"` that bypasses it.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these inside a scheme ("java\tscript:")


def http_url(value: object) -> str | None:
    """`value` when it is an absolute http(s) URL with a host, else None (the template then shows no link)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 2048 or _CONTROL.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def register(env) -> None:
    """Add the `http_url` filter to a Jinja environment."""
    env.filters["http_url"] = http_url
