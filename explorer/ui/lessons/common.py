"""What every lesson is made of: its question, a few words, pictures with captions, the answer, and a button that
opens the full page on the same view."""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer.glossary import define
from explorer.imaging import enlarge, to_uint8
from explorer.plots import label_colour
from explorer.ui import scroll

PAGES = {"explore": "explorer/ui/pages/explore.py", "generate": "explorer/ui/pages/generate.py",
         "train": "explorer/ui/pages/train.py", "compare": "explorer/ui/pages/compare.py",
         "vectors": "explorer/ui/pages/vectors.py", "likelihood": "explorer/ui/pages/likelihood.py"}


def question(letter: str, text: str) -> None:
    st.header(f"{letter}. {text}", anchor=f"lesson-{letter}")


def words(text: str, *terms: str) -> None:
    """Prose, with the terms it uses first defined in its tooltip."""
    st.markdown(text, help=define(*terms) if terms else None)


def caption(text: str, *terms: str) -> None:
    st.caption(text, help=define(*terms) if terms else None)


def answer(text: str) -> None:
    st.success(text, title="In short", icon=":material/lightbulb:")


def strip(images: np.ndarray, captions: list[str], key: str, size: int = 64) -> None:
    """(N, C, H, W) images in [0, 1] on one row, each with its caption."""
    with st.container(key=key, horizontal=True, gap="xsmall"):
        for image, text in zip(to_uint8(images), captions):
            st.image(enlarge(image, size), caption=text, width=size, output_format="PNG")


def open_page(label: str, key: str, page: str, preset: Callable[[], None], anchor: str = "") -> None:
    """A button that sets up the full page on the lesson's view (model, picks, settings), then goes there: to its
    top, or to the heading with this anchor."""
    if st.button(label, key=key, icon=":material/open_in_new:"):
        preset()
        scroll.request(anchor)
        # query_params={}: the default (None) clears the link, which Streamlit refuses while the tabs are bound to it
        st.switch_page(PAGES[page], query_params={})


def colour_key(names: tuple[str, ...]) -> None:
    """The label colours of the small maps that have no legend of their own, as one line of coloured squares."""
    items = "".join(f'<span style="margin-right:0.8em"><span style="color:{label_colour(i)}">■</span> '
                    f"{html.escape(name)}</span>" for i, name in enumerate(names))
    st.html(f'<div style="font-size:0.85rem">Colours, by label: {items}</div>')
