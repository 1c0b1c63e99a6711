"""Text from a user's file or a link, made safe to show inside Streamlit's markdown: shown as typed, never as
markup (no links, images, emphasis or HTML can come from it)."""

from __future__ import annotations

import re

_MARKUP = re.compile(r"([\\`*_{}\[\]()#+!|<>~$])")  # what can open a link, an image, emphasis, code or HTML
_AUTOLINK = re.compile(r"(?i)(://|www\.)")  # what GitHub-flavoured markdown turns into a link by itself


def plain(text: object) -> str:
    """Backslash-escape the characters markdown could read as markup (CommonMark's escapes)."""
    escaped = _MARKUP.sub(r"\\\1", str(text)).replace("\n", " ")
    return _AUTOLINK.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], escaped)
