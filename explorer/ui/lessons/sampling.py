"""Lesson a on the page: the decoder is trained on draws from each bubble, and the bubbles fill the prior."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.imaging import enlarge, tile, to_uint8
from explorer.lessons import sampling
from explorer.lessons.figures import samples_over
from explorer.plots import density_figure, sigma_bars
from explorer.ui import session
from explorer.ui.generate import SAMPLES_ANCHOR
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, open_page, question, strip, words


def render() -> None:
    question("a", "Why can the decoder turn random samples from N(0, I) into plausible digits?")
    words("The encoder does not give an image one point. It gives it a bubble: a mean μ and a spread σ in each "
          "latent dimension. While training, the decoder gets a fresh random draw from that bubble every time the "
          "image comes round, never the mean alone. Here is a typical 3's bubble on the 16-D model, and what the "
          "decoder makes of eight draws from it.", "latent space", "posterior", "μ", "σ", "N(0, I)")
    names = data.dataset().label_names
    bubble = data.bubble(data.model(data.VAE_16D).fingerprint, 3)
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(sigma_bars(bubble.sigma), key="lesson_a_sigma")
    with right:
        strip(bubble.images, ["its mean", *(f"draw {i}" for i in range(1, len(bubble.draws) + 1))], "lesson_a_draws",
              size=56)
    caption(sampling.draws_caption(bubble, names), "ε")
    words("Second, the KL term pulls every bubble toward the prior N(0, I), so together they cover it. On the 2-D "
          "model: all the bubbles averaged (q(z)), and 36 samples from the prior, decoded.", "KL", "prior",
          "aggregate posterior")
    reach, (xs, ys, density) = data.reach(data.model(data.VAE_2D).fingerprint)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(samples_over(density_figure(xs, ys, density, "q(z)", height=400), reach.samples),
                        key="lesson_a_reach")
    with right.container(key="lesson_a_samples"):
        mosaic = tile(np.stack([enlarge(im, 42) for im in to_uint8(reach.images)]), columns=6)
        st.image(mosaic, caption=f"the {len(reach.images)} prior samples, decoded", output_format="PNG")
    caption(sampling.reach_caption(reach, data.dataset().num_classes))
    answer("Because the decoder was trained on random points from every image's bubble, it learned to draw a digit "
           "anywhere in those bubbles, not only at their centres. The KL term keeps the bubbles packed into the "
           "prior's ball, so a sample from N(0, I) almost always lands inside some bubble, where the decoder knows "
           "what to draw.")
    open_page("Sample from the prior on Generate", "lesson_a_open", "generate", lambda: session.show(data.VAE_2D),
              anchor=SAMPLES_ANCHOR)
