"""Bring the page to its top (or to one heading) once: Streamlit keeps the scroll of the page a button was pressed
on, so a lesson's "Open ... on Explore", pressed at the bottom of the lesson, would open Explore halfway down."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.ui import session

_JS = """export default function (component) {
  const anchor = component.data;
  if (!anchor) {
    document.querySelector('[data-testid="stMain"]')?.scrollTo(0, 0);
    return;
  }
  let tries = 0;  // the heading may be drawn after this runs: look for it for up to 20 s
  const find = () => {
    const target = document.getElementById(anchor);
    if (target) target.scrollIntoView({ block: "start" });
    else if (++tries < 100) setTimeout(find, 200);
  };
  find();
}
"""  # several lines: Streamlit takes a one-line string with a slash in it for a file's path


@dataclass
class Scroll:
    to: str | None = None  # where the next page opens: '' its top, else a heading's anchor


def request(anchor: str = "") -> None:
    """Ask the next page this visitor opens to start at its top, or at the heading with this anchor (Streamlit's
    'samples-from-the-prior' for st.subheader("Samples from the prior"))."""
    session.page_state(Scroll).to = anchor


def on_request() -> None:
    """At a page's start: scroll as asked (once)."""
    scroll = session.page_state(Scroll)
    if scroll.to is not None:
        anchor, scroll.to = scroll.to, None
        st.components.v2.component("vae_scroll_to", js=_JS)(data=anchor, key="scroll_to", width="content")
