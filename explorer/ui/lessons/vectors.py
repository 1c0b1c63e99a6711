"""Lesson e on the page: an attribute vector on the 16-D model, measured on what it decodes."""

from __future__ import annotations

import streamlit as st

from explorer.attributes import MEASURES
from explorer.groups import STRENGTHS, ref_text
from explorer.lessons import vectors
from explorer.lessons.figures import attribute_figure
from explorer.ui import session
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, open_page, question, strip, words
from explorer.ui.vectors import VECTOR_KEYS

ATTRIBUTE = "lesson_attribute"  # the widget: which measured attribute the lesson's vector adds


def _open(shown: vectors.Strip, attribute: str) -> None:
    session.show(data.VAE_16D, [shown.row])
    for key, ref in zip(VECTOR_KEYS, (ref_text("most", attribute), ref_text("least", attribute), ref_text("pick", "A"))):
        session.set_widget(key, ref)


def render() -> None:
    question("e", "How do you add an attribute to an image through the latent space (the lectures' \"glasses\" vector)?")
    words("The lectures' recipe: take the mean code of faces with glasses, subtract the mean code of faces without, "
          "and add the difference to any face's code. Digits have no glasses, but they have measurable attributes: "
          "how slanted they are and how much ink they hold. Here is the slant vector on the 16-D model, and what it "
          "does, measured on the decoded images.", "latent space")
    attribute = st.segmented_control("Attribute", list(MEASURES), default="slant", key=ATTRIBUTE,
                                     persist_state="session") or "slant"
    v, card = data.attribute(data.model(data.VAE_16D).fingerprint, attribute)
    shown = vectors.best(card)
    names = data.dataset().label_names
    strip(shown.images, [f"{s:+g}" if s else "itself" for s in STRENGTHS], "lesson_e_strip", size=72)
    st.plotly_chart(attribute_figure(STRENGTHS, shown.measured, attribute, shown.label), key="lesson_e_measured")
    caption(vectors.strip_caption(v, shown, card, names))
    answer("An attribute vector is a difference of mean codes: what the images with the attribute share, minus what "
           "those without it share. Added to another image's code it moves that image in the same direction, and the "
           "decoder, trained on the whole region, draws the result. It works as far as the two groups differ in that "
           "one attribute alone: the measured attribute shows where it does, and the digit read back where it starts "
           "to change something else.")
    open_page("Open this vector on Vectors", "lesson_e_open", "vectors", lambda: _open(shown, attribute))
