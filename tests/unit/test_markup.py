"""Text from users' files and links is shown as typed: every character markdown reads as markup is escaped."""

from __future__ import annotations

import re

import pytest

from explorer.ui.markup import ZERO_WIDTH, plain, quoted


@pytest.mark.parametrize("text", [
    "![x](http://host/t.png)", "[log in again](http://host)", "<img src=x onerror=alert(1)>", "**bold** _it_ `code`",
    "see www.example.com", "mail me@example.com", "a\\b", "$x$ ~strike~ | table | # heading", "plain label 7",
])
def test_markup_is_escaped_and_the_text_comes_back_unchanged(text):
    shown = plain(text)
    assert re.sub(r"\\(.)", r"\1", shown).replace(ZERO_WIDTH, "") == text  # what markdown renders: the text as typed
    unescaped = re.sub(r"\\.", "", shown)
    assert not re.search(r"[\[\]()!<>*_`$~|#]", unescaped)
    assert not re.search(r"(?i)[a-z0-9]://|(?<!\u200b)www\.|[a-z0-9]@", unescaped)  # nothing left to autolink


def test_a_quoted_value_shows_as_typed_with_what_cannot_be_seen_escaped_and_a_long_one_cut():
    rendered = lambda text: re.sub(r"\\(.)", r"\1", text)  # noqa: E731 - what markdown shows of an escaped string
    assert rendered(quoted("$$\\frac{1}{0}$$")) == "'$$\\frac{1}{0}$$'"  # one backslash, as typed (repr doubles it)
    assert rendered(quoted("a\u200bb")) == "'a\\u200bb'"
    assert rendered(quoted("x" * 50)) == "'" + "x" * 40 + "…'" and rendered(quoted("x" * 5, limit=5)) == "'xxxxx'"
