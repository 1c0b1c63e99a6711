"""Bring the page to its top once: Streamlit keeps the scroll of the page a button was pressed on, so a lesson's
"Open ... on Explore", pressed at the bottom of the lesson, would open Explore halfway down."""

from __future__ import annotations

import streamlit as st

from explorer.ui import session

_JS = """export default function () {
  document.querySelector('[data-testid="stMain"]')?.scrollTo(0, 0);
}
"""  # several lines: Streamlit takes a one-line string with a slash in it for a file's path


def request() -> None:
    """Ask the next page this visitor opens to start at its top."""
    session.visitor().scroll_to_top = True


def on_request() -> None:
    """At a page's start: scroll to the top if it was asked for (once)."""
    me = session.visitor()
    if me.scroll_to_top:
        me.scroll_to_top = False
        st.components.v2.component("vae_scroll_to_top", js=_JS)(key="scroll_to_top", width="content")
