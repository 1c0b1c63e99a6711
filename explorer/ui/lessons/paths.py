"""Lesson c on the page: the path from a typical 3 to a typical 8 on the 16-D model, with the nearest real images."""

from __future__ import annotations

import streamlit as st

from explorer.config import PathConfig
from explorer.lessons import paths
from explorer.ui import session
from explorer.ui.explore import PATH_ANCHOR
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, open_page, question, strip, words
from explorer.ui.widgets import setting_key


def _open(lesson: paths.PathLesson) -> None:
    session.show(data.VAE_16D, list(lesson.rows))
    session.set_widget(setting_key(PathConfig, "steps"), paths.STEPS)


def render() -> None:
    question("c", "What does the path between a 3 and an 8 look like, and why does every step look like a digit?")
    words("Take a typical 3 and a typical 8 (the images whose codes lie nearest their digit's average code), encode "
          "both with the 16-D model, and decode points along the way between their means: on the straight line "
          "(lerp) and on the arc (slerp). Under each step, the real test image whose code lies nearest it.",
          "lerp", "slerp")
    lesson = data.path_lesson(data.model(data.VAE_16D).fingerprint)
    dataset = data.dataset()
    names = dataset.label_names
    for p in lesson.paths:
        st.markdown(f"**{'lerp' if p.method == 'linear' else 'slerp'}**")
        steps = [f"{t:.2f}" for t in (i / (len(p.z) - 1) for i in range(len(p.z)))]
        strip(p.images, steps, f"lesson_c_{p.method}")
        strip(dataset.pixels(p.nearest), [f"{d:.2f} away" for d in p.distances], f"lesson_c_{p.method}_nearest")
        caption(paths.path_caption(lesson, p, names, dataset.labels), "reader")
    farthest = max(float(p.distances.max()) for p in lesson.paths)
    among = ("no farther from some test image's code than test images lie from each other" if farthest <= lesson.spacing
             else f"at most {farthest:.2f} from some test image's code")
    answer("Step by step the 3's open ends curl in and close into an 8, and every step is a digit, because every step "
           f"lies among the encoded images: {among}. The decoder was trained on draws from all those images' bubbles, "
           "which overlap and cover the way between the 3s and the 8s.")
    open_page("Open this path on Explore", "lesson_c_open", "explore", lambda: _open(lesson), anchor=PATH_ANCHOR)
