"""Lesson f on the page: one click scores a few unusual images against the data's log p(x)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.imaging import enlarge
from explorer.lessons import unusual
from explorer.numbers import written
from explorer.plots import score_histogram
from explorer.ui import session
from explorer.ui.likelihood import UPLOAD_ANCHOR
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, open_page, question, words


@dataclass
class Scored:
    scored: bool = False  # this lesson's unusual images were scored (they stay shown)


def render() -> None:
    question("f", "How can the model flag an input unlike its training data?")
    words("A VAE gives every image a score: log p(x), how likely the model finds it (estimated with the IWAE bound, "
          "100 samples). Images like the training digits score high; an image unlike them should score low. Score "
          "four unusual images on the 16-D model and see where they fall among the 1,000 test digits.",
          "log p(x)", "IWAE bound", "nats")
    if not st.button("Score these unusual images", key="lesson_f_score", type="primary") and not _scored():
        st.caption("noise · an inverted digit · a blank image · the letter A")
        return
    session.page_state(Scored).scored = True
    with st.spinner("Scoring the 1,000 test digits and the four images ..."):
        v = data.verdicts(data.model(data.VAE_16D).fingerprint)
    with st.container(key="lesson_f_images", horizontal=True):
        for image, name, score in zip(v.images, v.names, v.log_px):
            st.image(enlarge(image[0], 112), caption=f"{name}: {written(score)} nats", width=112, output_format="PNG")
    st.plotly_chart(score_histogram(v.data, "log p(x)", marks=v.log_px, flagged=v.flagged, marks_name="these images",
                                    mark_names=list(v.names)),
                    key="lesson_f_histogram")
    caption(unusual.caption(v), "percentile")
    warning = unusual.caveat(v)
    if warning:
        st.warning(warning, icon=":material/warning:")
    passed = [name for name, flagged in zip(v.names, v.flagged) if not flagged]
    answer(f"Score the input's log p(x) and compare it with the training data's: {int(v.flagged.sum())} of the "
           f"{len(v.names)} fall outside the band the data's own scores fill. But a likelihood measures how easy an "
           "image is to predict, not how much it looks like a digit, and a blank image is easier than any digit: flag "
           "what falls outside the band on either side."
           + (f" Even so, {' and '.join(passed)} scored inside the band here: the flag is a first check, not proof."
              if passed else ""))
    open_page("Score your own images on Likelihood", "lesson_f_open", "likelihood", lambda: session.show(data.VAE_16D),
              anchor=UPLOAD_ANCHOR)


def _scored() -> bool:
    return session.page_state(Scored).scored
