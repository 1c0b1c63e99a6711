"""Lesson e on the page: the bold (italic, serif) vector on the glyphs model, judged by a reader that never saw it."""

from __future__ import annotations

import streamlit as st

from explorer.data import nouns
from explorer.groups import LEVEL, PICKS, STRENGTHS, ref_text
from explorer.lessons import vectors
from explorer.lessons.figures import attribute_figure
from explorer.numbers import share, signed
from explorer.ui import session
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, open_page, question, strip, words
from explorer.ui.vectors import VECTOR_ANCHOR, VECTOR_KEYS

ATTRIBUTE = "lesson_attribute"  # the widget: which named attribute the lesson's vector adds


def _open(lesson: vectors.VectorLesson) -> None:
    session.show(data.GLYPHS, [lesson.strip.row])
    refs = (ref_text(LEVEL, lesson.attribute), ref_text(LEVEL, lesson.opposite), ref_text("pick", PICKS[0]))
    for key, ref in zip(VECTOR_KEYS, refs):
        session.set_widget(key, ref)


def _score_table(lesson: vectors.VectorLesson, class_noun: str) -> None:
    rows = [row for row in lesson.score.strengths if row.strength]
    st.dataframe({"strength": [signed(row.strength) for row in rows],
                  "added to": [f"{row.images} {lesson.opposite if row.strength > 0 else lesson.attribute} glyphs"
                               for row in rows],
                  f"read as more (+) or less (−) {lesson.attribute}": [share(row.moved) for row in rows],
                  f"kept their {class_noun}": [share(row.kept) for row in rows]},
                 hide_index=True, key="lesson_e_score")


def render() -> None:
    question("e", "How do you add an attribute to an image through the latent space "
                  "(the lectures' \"glasses\" vector)?")
    words("The lectures' recipe: take the mean code of faces with glasses, subtract the mean code of faces without, "
          "and add the difference to any face's code. Glyphs carry named attributes the way faces carry glasses: "
          "each of these 7,936 letters and digits, drawn in one of 16 fonts, is labelled bold or regular, italic or "
          "upright, serif or sans. Choose one: its vector on the glyphs model (16-D), and what it does, judged by a "
          "reader, a small network trained on the glyphs' labels that never saw this model or its codes.",
          "latent space", "reader")
    attribute = st.segmented_control("Attribute", vectors.ATTRIBUTES, default=vectors.ATTRIBUTES[0], key=ATTRIBUTE,
                                     persist_state="session") or vectors.ATTRIBUTES[0]
    lesson = data.vector_lesson(data.model(data.GLYPHS).fingerprint, attribute)
    names = data.glyphs().label_names
    class_noun = nouns(data.glyphs())[1]
    s = lesson.strip
    strip(s.images, [f"{signed(t) if t else 'itself'} · {share(p)}" for t, p in zip(STRENGTHS, s.measured)],
          "lesson_e_strip", size=72)
    st.plotly_chart(attribute_figure(STRENGTHS, s.measured, attribute),
                    key="lesson_e_measured")
    caption(vectors.strip_caption(lesson, names, class_noun))
    _score_table(lesson, class_noun)
    caption(vectors.score_caption(lesson, class_noun))
    answer("An attribute vector is a difference of mean codes: what the images with the attribute share, minus what "
           "those without it share. Added to another image's code it moves that image the same way, and the decoder, "
           "trained on the whole region, draws the result. It works as far as the two groups differ in that one "
           "attribute alone: the reader shows where it does, and the character read back where it starts to change "
           "something else.")
    open_page("Open this vector on Vectors", "lesson_e_open", "vectors", lambda: _open(lesson), anchor=VECTOR_ANCHOR)
