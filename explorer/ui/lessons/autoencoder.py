"""Lesson b on the page: an autoencoder's codes against a VAE's, and the KL term's two extremes."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.imaging import enlarge, tile, to_uint8
from explorer.lessons import autoencoder, extremes
from explorer.lessons.figures import bubbles_map, forces_figure, norms_figure
from explorer.numbers import share
from explorer.ui import session
from explorer.ui.lessons import data
from explorer.ui.lessons.common import answer, caption, colour_key, open_page, question, words

BETA_WIDTH = 300  # pixels per β column: three beside each other on a wide page


def _mosaic(images: np.ndarray, columns: int, size: int = 56) -> np.ndarray:
    return tile(np.stack([enlarge(im, size) for im in to_uint8(images)]), columns=columns)


def _pair() -> tuple[int, autoencoder.Side, autoencoder.Side]:
    pairs = data.pairs(data.fingerprints(*(n for _, *pair in data.PAIRS for n in pair)))
    i = autoencoder.chosen([(ae, vae) for _, ae, vae in pairs])
    dim, ae, vae = pairs[i]
    other = [(d, a.fit.covered, v.fit.covered) for j, (d, a, v) in enumerate(pairs) if j != i]
    st.plotly_chart(norms_figure(ae.norms, vae.norms, dim), key="lesson_b_norms")
    caption(autoencoder.norms_caption(ae, vae, dim), "99% ball")
    cols = st.columns(2)
    for col, side, who in zip(cols, (ae, vae), ("autoencoder", "VAE")):
        with col.container(key=f"lesson_b_samples_{who.lower()}"):
            st.image(_mosaic(side.images, columns=8), caption=f"{who} ({side.name}): prior samples, decoded",
                     output_format="PNG")
    caption(autoencoder.samples_caption(ae, vae, dim, other[0] if other else None), "reader", "N(0, I)")
    return dim, ae, vae


def _extremes() -> None:
    series = data.betas(data.fingerprints(*data.BETAS))
    if series is None:
        st.info("The β 0 and β 50 models' training histories are missing from checkpoints/, so this part is left out.")
        return
    words("What does the KL term do? The same 2-D network trained three times: without it (β 0), as a VAE (β 1), "
          "and with it fifty times stronger (β 50). Bubbles of 150 test images, and eight prior samples decoded.", "β")
    names = data.dataset().label_names
    colour_key(names)
    with st.container(horizontal=True, key="lesson_b_betas"):  # three across, wrapping on a narrow page
        for e in series:
            _beta_column(e, names)
    st.plotly_chart(forces_figure([(f"β {e.beta:g}", e.forces) for e in series]), key="lesson_b_forces")
    caption(extremes.forces_caption(series))


def _beta_column(e, names) -> None:
    with st.container(width=BETA_WIDTH):
        st.markdown(f"**β {e.beta:g}** ({e.name})")
        st.plotly_chart(bubbles_map(e.latents, names, height=300), key=f"lesson_b_beta_{e.beta:g}")
        with st.container(key=f"lesson_b_beta_samples_{e.beta:g}"):
            st.image(_mosaic(e.images, columns=8, size=28), output_format="PNG")
        caption(extremes.describe(e), "reconstruction", "KL", "nats")


def render() -> None:
    question("b", "What is wrong with a plain autoencoder's latent space for generating, and how is a VAE's different?")
    words("A plain autoencoder maps each image to one point and is trained on reconstruction alone, so nothing says "
          "where the points should go. To generate from it you would still draw z from N(0, I), as from a VAE. The "
          "same network trained both ways: where each puts the test images, and what prior samples become.",
          "autoencoder", "VAE")
    dim, ae, vae = _pair()
    _extremes()
    answer(f"The autoencoder's codes sit wherever training pushed them ({share(1 - ae.fit.inside)} of them outside "
           "the prior's 99% ball here), so prior samples land where its decoder never saw a code. A VAE's KL term "
           "pulls every μ toward 0 and every σ toward 1, while reconstruction keeps the bubbles apart: the codes end "
           "up packed into the prior, which is what makes sampling work. Too little KL and the bubbles shrink and fly "
           "apart; too much and every image gets the same bubble and the decoder draws one blur.")
    open_page(f"Compare the {dim}-D pair on Compare", "lesson_b_open", "compare",
              lambda: [session.set_widget(key, side.name) for key, side in zip(session.COMPARE_MODELS, (ae, vae))])
