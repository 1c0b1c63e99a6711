"""Text from a user's file or a link, made safe to show inside Streamlit's markdown: shown as typed, never as
markup (no links, images, emphasis or HTML can come from it)."""

from __future__ import annotations

import re

_MARKUP = re.compile(r"([\\`*_{}\[\]()#+!|<>~$])")  # what can open a link, an image, emphasis, code or HTML
# What GitHub-flavoured markdown links by itself (http://..., www...., name@host), whatever is escaped: a
# zero-width space breaks the pattern and shows nothing.
_AUTOLINK = re.compile(r"(?i)(?=://|www\.|@)")
ZERO_WIDTH = "\u200b"


def plain(text: object) -> str:
    """Backslash-escape the characters markdown could read as markup (CommonMark's escapes), and break autolinks."""
    escaped = _MARKUP.sub(r"\\\1", str(text)).replace("\n", " ")
    return _AUTOLINK.sub(ZERO_WIDTH, escaped)


def quoted(text: object, limit: int = 40) -> str:
    """A value from a link or file in quotes, as typed (what cannot be seen, such as a zero-width space, as its
    escape), cut at `limit` characters with an ellipsis; made plain."""
    text = str(text)
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return plain(f"'{shown}{'…' if len(text) > limit else ''}'")
