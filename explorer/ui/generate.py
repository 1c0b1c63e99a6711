"""The generate page: latent sliders, samples from the prior, and the decoded manifold grid."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.imaging import enlarge, tile, to_uint8
from explorer.latent import decode_latents, grid_latents, mean_kl_per_dim, prior_samples
from explorer.plots import manifold_figure
from explorer.ui import state, url

SLIDER_RANGE = url.SLIDER_LIMIT


def _slider_key(d: int) -> str:
    return f"z_{d}"


def _set_sliders(values: np.ndarray) -> None:
    """Callback (runs before the widgets exist, so it may set their state)."""
    for d, v in enumerate(values):
        st.session_state[_slider_key(d)] = float(np.clip(round(float(v), 2), -SLIDER_RANGE, SLIDER_RANGE))


def _picked_mean(selection: state.Selection) -> tuple[np.ndarray | None, int | None]:
    """The newest pick's latent mean and label, if the visitor picked a point on the explorer page."""
    picks = state.picks()
    if not picks or selection.dataset is None:
        return None, None
    latents = state.current_latents(selection)
    i = int(np.searchsorted(latents.index, picks[-1]))
    if i >= len(latents.index) or latents.index[i] != picks[-1]:
        return None, None
    return latents.mu[i], (int(latents.labels[i]) if latents.labels is not None else None)


def _label_choice(selection: state.Selection) -> int | None:
    checkpoint = selection.checkpoint
    if not checkpoint.model_config.conditional:
        return None
    names = checkpoint.label_names or tuple(str(i) for i in range(checkpoint.model.num_classes))
    if st.session_state.get("condition_label") not in range(len(names)):
        st.session_state["condition_label"] = 0
    return st.selectbox("Condition on label", range(len(names)), format_func=lambda i: names[i],
                        key="condition_label", help="A conditional VAE decodes every z as this label.")


def _sliders(selection: state.Selection, label: int | None, kl: np.ndarray) -> None:
    model = selection.checkpoint.model
    latent_dim = model.latent_dim
    picked, _ = _picked_mean(selection)
    st.subheader("Move through z")
    cols = st.columns(2)
    cols[0].button("Start from the picked point", key="start_from_pick", disabled=picked is None,
                   on_click=_set_sliders, args=(picked,) if picked is not None else (np.zeros(latent_dim),),
                   help="Pick a point on the Explore page first." if picked is None else None)
    cols[1].button("Reset to 0", key="reset_sliders", on_click=_set_sliders, args=(np.zeros(latent_dim),))
    left, right = st.columns([3, 2])
    order = np.argsort(-kl, kind="stable")  # most informative dimension first
    with left:
        for d in order:
            key = _slider_key(int(d))
            st.session_state.setdefault(key, 0.0)
            st.slider(f"z{d} · KL {kl[d]:.2f} nats", -SLIDER_RANGE, SLIDER_RANGE, step=0.05, key=key)
    z = np.array([[st.session_state[_slider_key(d)] for d in range(latent_dim)]], np.float32)
    image = to_uint8(decode_latents(model, z, label))[0]
    with right, st.container(key="slider_decode"):
        st.image(enlarge(image, 280), caption="decoded z", width=280, output_format="PNG")


def _prior_grid(selection: state.Selection, label: int | None) -> None:
    model = selection.checkpoint.model
    st.subheader("Samples from the prior")
    cols = st.columns([2, 1, 1])
    temperature = cols[0].slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="temperature",
                                 help="z ~ N(0, T²I): below 1, more typical samples; above 1, wilder ones.")
    count = cols[1].select_slider("Samples", [16, 36, 64], value=36, key="sample_count")
    if cols[2].button("Resample", key="resample"):
        st.session_state["sample_seed"] = st.session_state.get("sample_seed", 0) + 1
    z = prior_samples(count, model.latent_dim, temperature, seed=st.session_state.get("sample_seed", 0))
    images = to_uint8(decode_latents(model, z, label))
    mosaic = tile(np.stack([enlarge(im, 56) for im in images]), columns=int(np.sqrt(count)))
    st.image(mosaic, caption=f"{count} samples at temperature {temperature:.2f}", width=min(640, mosaic.shape[1]), output_format="PNG")


def _manifold(selection: state.Selection, label: int | None, kl: np.ndarray) -> None:
    model = selection.checkpoint.model
    latent_dim = model.latent_dim
    st.subheader("The decoded manifold")
    cols = st.columns(3)
    size = cols[0].slider("Grid size", 5, 25, 15, key="manifold_size")
    extent = cols[1].slider("Half-width (in σ of the prior)", 0.5, 4.0, 2.5, 0.25, key="manifold_extent")
    if latent_dim == 2:
        z = grid_latents(np.zeros(2, np.float32), (0, 1), extent, size, centre=(0.0, 0.0))
        images = to_uint8(decode_latents(model, z, label))
        mosaic = tile(images, columns=size, pad=0)
        points = labels = None
        if selection.dataset is not None and cols[2].checkbox("Overlay the data's means", True, key="manifold_overlay"):
            latents = state.current_latents(selection)
            points, labels = latents.mu, latents.labels
        half = extent * size / (size - 1)  # image cells are centred on the grid points
        names = selection.dataset.label_names if selection.dataset is not None else ()
        st.plotly_chart(manifold_figure(mosaic, (-half, half), (-half, half), points, labels, names),
                        key="manifold_map")
        return
    order = [int(d) for d in np.argsort(-kl, kind="stable")]
    dx = cols[2].selectbox("Horizontal dimension", order, index=0, key="grid_dim_x", format_func=lambda d: f"z{d}")
    dy = cols[2].selectbox("Vertical dimension", order, index=1, key="grid_dim_y", format_func=lambda d: f"z{d}")
    if dx == dy:
        st.warning("Choose two different dimensions.")
        return
    picked, _ = _picked_mean(selection)
    base = picked if picked is not None else np.zeros(latent_dim, np.float32)
    z = grid_latents(base, (dx, dy), extent, size)
    images = to_uint8(decode_latents(model, z, label))
    mosaic = tile(np.stack([enlarge(im, 40) for im in images]), columns=size, pad=1)
    where = "the picked point" if picked is not None else "the origin (pick a point on Explore to centre it there)"
    st.image(mosaic, caption=f"z{dx} left to right, z{dy} top to bottom, ±{extent} around {where}",
             width=min(760, mosaic.shape[1]), output_format="PNG")


def render() -> None:
    selection = state.model_sidebar()
    st.title("Generate")
    url.show_notices()
    label = _label_choice(selection)
    if selection.dataset is not None:
        latents = state.current_latents(selection)
        kl = mean_kl_per_dim(latents.mu, latents.logvar)
    else:
        kl = np.zeros(selection.checkpoint.model_config.latent_dim)
    _sliders(selection, label, kl)
    st.divider()
    _prior_grid(selection, label)
    st.divider()
    _manifold(selection, label, kl)
    z = ",".join(f"{st.session_state[_slider_key(d)]:g}" for d in range(selection.checkpoint.model_config.latent_dim))
    view = {**state.shared_view(selection), "z": z, "label": label}
    url.publish(view)
