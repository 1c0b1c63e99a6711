"""Lesson d on the page: the 2-D model's map at epochs 0, 5, 10 and the last, and all recorded epochs in motion."""

from __future__ import annotations

import streamlit as st

from explorer.lessons import forming
from explorer.lessons.extremes import spread
from explorer.lessons.figures import bubbles_map, forming_animation
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, colour_key, open_page, question, words

STAGE_WIDTH = 220  # pixels per small map: four beside each other on a wide page, two on a narrow one
PLAY_WIDTH = 560  # the animated map: square, and no wider than the page


def render() -> None:
    question("d", "How does the map of encoded means change over training (untrained, after 5 epochs, after 10)?")
    history = data.history(data.VAE_2D)
    if history is None or history.logvar is None:
        st.info("The 2-D model's training history is missing from checkpoints/, so this lesson is left out.")
        return
    words("The bundled 2-D model's own training, recorded: the 1,000 test images' means (points) and the bubbles of "
          "150 of them, with the prior's circles, before training and at the end of epochs 5, 10 and the last.",
          "posterior", "prior", "epoch")
    stages = data.stages(data.model(data.VAE_2D).fingerprint)
    names = data.dataset().label_names
    reach = max(3.5, max(spread(m) for m in history.mu) * 1.2)
    colour_key(names)
    with st.container(horizontal=True, key="lesson_d_stages"):  # four across, wrapping to two on a narrow page
        for i in forming.small_multiples(history):
            with st.container(width=STAGE_WIDTH):
                st.markdown(f"**{'untrained' if history.epochs[i] == 0 else f'epoch {int(history.epochs[i])}'}**")
                st.plotly_chart(bubbles_map(history.at(i), names, height=260, reach=reach), key=f"lesson_d_epoch_{i}")
                caption(forming.stage_caption(stages[i]))
    words("Every recorded epoch (1 to 10, then every 5th), in motion: press Play, or drag the slider.")
    with st.container(width=PLAY_WIDTH):
        st.plotly_chart(forming_animation(history, names, reach), key="lesson_d_play")
    first, last = stages[0], stages[-1]
    answer(f"Untrained, every bubble is nearly the prior itself (σ {first.mean_sigma:.2f}) and the means sit on one "
           f"spot (90% within {first.reach:.2f} of the origin). Reconstruction then pushes the bubbles apart and "
           f"shrinks them (σ {last.mean_sigma:.2f} at the end), and sorts them by digit ({first.agreement:.0%} of "
           f"images agree with their neighbours' label before, {last.agreement:.0%} after), while the KL term keeps "
           f"90% of the means within {last.reach:.1f} of the origin, inside the prior's circles.")
    open_page("Watch a run form it live on Train", "lesson_d_open", "train", lambda: None)
