"""The Lessons page: six questions, one tab each (only the open one is computed and sent), then the glossary."""

from __future__ import annotations

import streamlit as st

from explorer.glossary import TERMS
from explorer.ui import session, sidebar, url
from explorer.ui.markup import quoted
from explorer.ui.lessons import autoencoder, data, forming, paths, sampling, unusual, vectors

TAB = session.LESSON  # the tabs' key, and the link's parameter
LESSONS = {"a. Prior samples": sampling, "b. Autoencoder vs VAE": autoencoder, "c. From a 3 to an 8": paths,
           "d. The map forming": forming, "e. Adding an attribute": vectors, "f. Flagging the unusual": unusual}
GLOSSARY = "Words used here"


def _glossary() -> None:
    st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in TERMS.items()))


def _next(label: str) -> None:
    labels = [*LESSONS, GLOSSARY]
    following = labels[labels.index(label) + 1]
    st.button(f"Next: {following}", key=f"next_{label[0]}", icon=":material/arrow_forward:",
              on_click=session.set_widget, args=(TAB, following))


def render() -> None:
    link = sidebar.page_start()
    st.title("What a VAE learns, in six questions")
    url.show_notices()
    if link and TAB in link and url.one(link[TAB]) not in [*LESSONS, GLOSSARY]:  # the bound tabs drop it silently
        url.reject(TAB, f"{TAB}={quoted(url.one(link[TAB]))} is not one of the lessons, so the first is open")
    st.markdown("Each tab answers one question with live pictures from the models that come with this app, trained "
                "on 5,000 handwritten digits (lesson e: on 7,936 characters drawn in 16 fonts). Hover the (?) marks "
                "for the words; every number in a caption is computed from the picture beside it.")
    absent = data.missing()
    if absent:
        st.error("The lessons need the bundled models " + ", ".join(absent) + ", which are missing from this "
                 "server's checkpoints/ folder. Restore them from the repository.")
        return
    tabs = st.tabs([*LESSONS, GLOSSARY], key=TAB, on_change="rerun", bind="query-params")
    for tab, (label, lesson) in zip(tabs, LESSONS.items()):
        if tab.open:
            with tab:
                lesson.render()
                _next(label)
    if tabs[-1].open:
        with tabs[-1]:
            _glossary()
    shown = next((label for tab, label in zip(tabs, [*LESSONS, GLOSSARY]) if tab.open), None)
    url.share({TAB: shown} if shown not in (None, next(iter(LESSONS))) else {})
