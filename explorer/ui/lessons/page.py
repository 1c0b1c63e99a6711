"""The Lessons page: six questions, each with its pictures, answer and a way into the full page; then the glossary."""

from __future__ import annotations

import streamlit as st

from explorer.glossary import TERMS
from explorer.ui import sidebar
from explorer.ui.lessons import autoencoder, data, forming, paths, sampling, unusual, vectors

LESSONS = (sampling, autoencoder, paths, forming, vectors, unusual)


def _glossary() -> None:
    st.header("Words used here", anchor="glossary", divider="gray")
    st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in TERMS.items()))


def render() -> None:
    sidebar.page_start()
    st.title("What a VAE learns, in six questions")
    st.markdown("Each question below is answered with live pictures from the models that come with this app, trained "
                "on 5,000 handwritten digits; hover the (?) marks for the words. Every number in a caption is computed "
                "from the picture beside it. Jump to: " + " · ".join(
                    f"[{letter}](#lesson-{letter})" for letter in "abcdef") + " · [words](#glossary)")
    absent = data.missing()
    if absent:
        st.error("The lessons need the bundled models " + ", ".join(absent) + ", which are missing from this "
                 "server's checkpoints/ folder. Restore them from the repository.")
        return
    for lesson in LESSONS:
        lesson.render()
    _glossary()
