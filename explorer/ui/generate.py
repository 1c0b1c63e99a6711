"""The generate page: latent sliders, samples from the prior, and the decoded manifold grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.config import Z_LIMIT, SamplingConfig
from explorer.imaging import enlarge, tile, to_uint8
from explorer.glossary import define
from explorer.latent import active_units, decode_latents, dimension_weights, grid_latents, prior_samples, slider_reach
from explorer.numbers import share, written
from explorer.plots import manifold_figure
from explorer.traversal import STARTS
from explorer.ui import live_decode, resources, session, sidebar, url
from explorer.ui.markup import plain
from explorer.ui.sidebar import Selection
from explorer.ui.widgets import setting_widget

SAMPLES_ANCHOR = "samples-from-the-prior"  # the prior samples' heading: where a lesson opens the page
Z_STEP = 0.05
SLIDER_IMAGE = 280  # pixels: the decoded image beside the sliders
SLIDERS_SHOWN = 5  # more sliders than this scroll in a box of SLIDERS_HEIGHT pixels, so the image beside them
SLIDERS_HEIGHT = 420  # stays in view while any one is dragged (and the box fits a laptop's screen)
_AUTOENCODER_NOTE = (
    "{name} is a plain autoencoder: no KL term pulled its codes toward the prior N(0, I). The sliders span its "
    "codes{reach}; the samples from the prior and the grid below cover only the prior's region, where an "
    "autoencoder may have few codes or none, so what they decode says little about the data. The Compare page "
    "puts it beside a VAE trained the same way."
)


@dataclass
class GenerateState:
    """What the Generate page keeps between runs."""

    sample_seed: int = 0  # Resample draws the next


def _set_sliders(values: np.ndarray, reach: float) -> None:
    """Callback (runs before the widgets exist, so it may set their state)."""
    for d, v in enumerate(values):
        session.set_widget(session.z_key(d), float(np.clip(round(float(v), 2), -reach, reach)))


def _picked_mean(selection: Selection) -> tuple[np.ndarray | None, int | None]:
    """The newest pick's latent mean and label, if the visitor picked a point on the explorer page."""
    picks = session.visitor().picks
    if not picks or selection.dataset is None:
        return None, None
    latents = selection.latents()
    i = int(np.searchsorted(latents.index, picks[-1]))
    if i >= len(latents.index) or latents.index[i] != picks[-1]:
        return None, None
    return latents.mu[i], (int(latents.labels[i]) if latents.labels is not None else None)


def _label_choice(selection: Selection) -> int | None:
    names = selection.condition_names
    if not names:
        return None
    session.offer(session.LABEL, range(len(names)), 0, drawn=0)
    return st.selectbox("Condition on label", range(len(names)), format_func=lambda i: names[i], key=session.LABEL,
                        help="A conditional VAE decodes every z as this label.", bind="query-params",
                        persist_state="session")


def _factor_names(selection: Selection, reach: float) -> dict[int, str]:
    """' · moves x' for each dimension of a model of data with known factors, said once above the sliders."""
    latents = selection.latents() if selection.dataset is not None else None
    named = resources.factor_names(selection.checkpoint, selection.dataset, selection.split, latents, reach) \
        if latents is not None else None
    if not named:
        return {}
    st.caption(f"Each slider names the known factor it moves most: {STARTS} {plain(selection.split)} images' codes "
               f"are walked along it from −{reach:g} to +{reach:g}, decoded, and read by a small network trained on "
               "the data's known factors (never by this model). The share is how much of the factor's range (or of a "
               "category's probability) changes on average; '3× noise' says that change is 3 times what the "
               "network's reading of that factor moves across real images that share its value, which is how the "
               "factors are ranked. Two names: both move, nearly as far.", help=define("latent space", "reader"))
    return {f.dimension: _moves(f) for f in named}


def _moves(found) -> str:
    """' · moves x and y (46%, 7× noise)': what a slider's dimension moves, for its label."""
    if found.factor is None:
        return " · moves no known factor"
    both = f"{found.factor} and {found.also}" if found.also else found.factor
    return f" · moves {both} ({share(found.change)}, {written(found.signal, '.2g')}× noise)"


def _sliders(selection: Selection, label: int | None, weights: tuple[np.ndarray, str], reach: float) -> np.ndarray:
    model = selection.checkpoint.model
    latent_dim = model.latent_dim
    picked, _ = _picked_mean(selection)
    st.subheader("Move through z")
    cols = st.columns(2)
    cols[0].button("Start from the picked point", key="start_from_pick", disabled=picked is None,
                   on_click=_set_sliders, args=(picked if picked is not None else np.zeros(latent_dim), reach),
                   help="Pick a point on the Explore page first." if picked is None else None)
    cols[1].button("Reset to 0", key="reset_sliders", on_click=_set_sliders, args=(np.zeros(latent_dim), reach))
    kl, what = weights
    if what == "KL" and kl.any():
        active = int(active_units(kl).sum())
        st.caption(f"One slider per latent dimension, the most informative first: by each dimension's KL from the "
                   f"prior, averaged over the data. {active} of {latent_dim} are active; the others barely change the "
                   "image.", help=define("latent space", "KL", "active dimension", "nats"))
    factors = _factor_names(selection, reach)
    left, right = st.columns([3, 2])
    unit = " nats" if what == "KL" else ""
    order = np.argsort(-kl, kind="stable")  # most informative dimension first
    z = np.zeros((1, latent_dim), np.float32)
    with left, st.container(key="sliders", height=SLIDERS_HEIGHT if latent_dim > SLIDERS_SHOWN else "content"):
        for d in order:
            z[0, d] = st.slider(f"z{d} · {what} {kl[d]:.2f}{unit}{factors.get(int(d), '')}", -reach, reach, 0.0,
                                step=Z_STEP, key=session.z_key(int(d)), bind="query-params", persist_state="session")
    with right, st.container(key="slider_decode"):
        if live_decode.slider_decoder(selection.checkpoint, label, SLIDER_IMAGE, key="live_slider_decode"):
            st.caption("decoded z, redrawn in your browser while you drag a slider")
        else:
            image = to_uint8(decode_latents(model, z, label))[0]
            st.image(enlarge(image, SLIDER_IMAGE), caption="decoded z", width=SLIDER_IMAGE, output_format="PNG")
            reason = live_decode.browser_refusal(selection.checkpoint, label) or "Your browser is not sent this decoder"
            st.caption(f"{reason}: the image is decoded here when you release a slider.")
    return z[0]


def _prior_grid(selection: Selection, label: int | None) -> SamplingConfig:
    model = selection.checkpoint.model
    st.subheader("Samples from the prior", anchor=SAMPLES_ANCHOR)
    cols = st.columns([2, 1, 1])
    temperature = setting_widget(SamplingConfig, "temperature", cols[0])
    count = setting_widget(SamplingConfig, "samples", cols[1])
    state = session.page_state(GenerateState)
    if cols[2].button("Resample", key="resample"):
        state.sample_seed += 1
    z = prior_samples(count, model.latent_dim, temperature, seed=state.sample_seed)
    images = to_uint8(decode_latents(model, z, label))
    mosaic = tile(np.stack([enlarge(im, 56) for im in images]), columns=int(np.sqrt(count)))
    st.image(mosaic, caption=f"{count} samples at temperature {temperature:.2f}", width=min(640, mosaic.shape[1]),
             output_format="PNG")
    st.caption(f"z drawn from N(0, {temperature:.2f}² I) and decoded: what the model generates. The Lessons page's "
               "question a says why a VAE's samples look like its data.", help=define("prior"))
    return SamplingConfig(temperature=temperature, samples=count)


def _manifold(selection: Selection, label: int | None, kl: np.ndarray) -> SamplingConfig:
    """The decoded grid; kl (D,) orders the dimensions to choose from, most informative first."""
    model = selection.checkpoint.model
    latent_dim = model.latent_dim
    st.subheader("The decoded manifold", help=define("decoded manifold"))
    cols = st.columns(3)
    config = SamplingConfig(grid_size=setting_widget(SamplingConfig, "grid_size", cols[0]),
                            extent=setting_widget(SamplingConfig, "extent", cols[1]))
    size, extent = config.grid_size, config.extent
    if latent_dim == 2:
        z = grid_latents(np.zeros(2, np.float32), (0, 1), extent, size, centre=(0.0, 0.0))
        images = to_uint8(decode_latents(model, z, label))
        mosaic = tile(images, columns=size, pad=0)
        points = labels = None
        what = "means" if model.kind.posterior else "codes"
        if selection.dataset is not None and cols[2].checkbox(f"Overlay the data's {what}", True,
                                                              key="manifold_overlay"):
            latents = selection.latents()
            points, labels = latents.mu, latents.labels
        half = extent * size / (size - 1)  # image cells are centred on the grid points
        names = selection.dataset.label_names if selection.dataset is not None else ()
        st.plotly_chart(manifold_figure(mosaic, (-half, half), (-half, half), points, labels, names),
                        key="manifold_map")
        outside = 0 if points is None else int((np.abs(points) > half).any(axis=1).sum())
        if outside:
            st.caption(f"{outside:,} of the {len(points):,} {what} lie outside this square and are not drawn.")
        return config
    order = [int(d) for d in np.argsort(-kl, kind="stable")]
    dx = cols[2].selectbox("Horizontal dimension", order, index=0, key="grid_dim_x", format_func=lambda d: f"z{d}")
    dy = cols[2].selectbox("Vertical dimension", order, index=1, key="grid_dim_y", format_func=lambda d: f"z{d}")
    if dx == dy:
        st.warning("Choose two different dimensions.")
        return config
    picked, _ = _picked_mean(selection)
    base = picked if picked is not None else np.zeros(latent_dim, np.float32)
    z = grid_latents(base, (dx, dy), extent, size)
    images = to_uint8(decode_latents(model, z, label))
    mosaic = tile(np.stack([enlarge(im, 40) for im in images]), columns=size, pad=1)
    where = "the picked point" if picked is not None else "the origin (pick a point on Explore to centre it there)"
    st.image(mosaic, caption=f"z{dx} left to right, z{dy} top to bottom, ±{extent} around {where}",
             width=min(760, mosaic.shape[1]), output_format="PNG")
    return config


def render() -> None:
    selection = sidebar.model_sidebar()
    st.title("Generate")
    url.show_notices()
    label = _label_choice(selection)
    latents = selection.latents() if selection.dataset is not None else None
    model = selection.checkpoint.model
    weights = dimension_weights(latents) if latents is not None else (
        np.zeros(model.latent_dim), "KL" if model.kind.posterior else "spread")
    reach = slider_reach(latents)
    if not model.kind.posterior:
        st.info(_AUTOENCODER_NOTE.format(name=plain(selection.name),
                                         reach=f" (±{reach:g} here, to reach every code)" if reach > Z_LIMIT else ""))
    z = _sliders(selection, label, weights, reach)
    st.divider()
    samples = _prior_grid(selection, label)
    st.divider()
    grid = _manifold(selection, label, weights[0])
    link = {session.z_key(d): f"{v:g}" for d, v in enumerate(z) if v != 0.0}
    if label:
        link[session.LABEL] = selection.condition_names[label]
    link |= url.settings_link(samples) | url.settings_link(grid)
    sidebar.publish(selection, link)
