"""What every page's layout needs beyond Streamlit's options: a few CSS rules (style.css), and the sidebar closed
on narrow windows (Streamlit closes it by itself only below 768 px; at 800 its 300 px squeezed every control)."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

NARROW_PX = 1000  # below this window width the sidebar starts closed, leaving the page its width
_CLOSE_JS = """export default function (component) {
  if (window.__vaeSidebarChecked || window.innerWidth >= component.data) return;
  window.__vaeSidebarChecked = true;  // once per page load: a visitor who opens it again keeps it open
  let tries = 0;  // the sidebar is drawn during the run: look for its close button for up to 10 s
  const close = () => {
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    if (button && sidebar && sidebar.getBoundingClientRect().width > 50) button.click();
    else if (++tries < 50) setTimeout(close, 200);
  };
  close();
}
"""  # several lines: Streamlit takes a one-line string with a slash in it for a file's path


@functools.cache
def _style() -> str:
    return f"<style>{Path(__file__).with_name('style.css').read_text()}</style>"


def apply() -> None:
    """At the top of every page, on every run (so the elements after keep their places): the CSS, applied
    without taking space, and the sidebar's check (its element hidden by the CSS)."""
    st.html(_style())
    st.components.v2.component("vae_close_sidebar", js=_CLOSE_JS)(data=NARROW_PX, key="close_sidebar",
                                                                 width="content")
