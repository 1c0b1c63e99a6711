"""The explorer page: pick a model and see its latent map."""

from __future__ import annotations

import streamlit as st

from explorer.checkpoint import bundled_checkpoints
from explorer.plots import latent_map
from explorer.projection import project
from explorer.ui import state


def render() -> None:
    st.title("VAE Latent Explorer")
    names = list(bundled_checkpoints())
    if not names:
        st.error("No bundled models were found in checkpoints/; train one with 'python -m explorer train'.")
        return
    default = names.index(state.DEFAULT_MODEL) if state.DEFAULT_MODEL in names else 0
    name = st.selectbox("Model", names, index=default, key="model_name")
    checkpoint = state.bundled_model(name)
    data = state.dataset(checkpoint.dataset)
    split = st.radio("Split", ["test", "train"], horizontal=True, key="split")
    latents = state.latents(checkpoint.fingerprint, checkpoint, data, split)
    method = "identity" if checkpoint.model_config.latent_dim == 2 else "pca"
    projection = project(latents.mu, method)
    config = checkpoint.model_config
    st.caption(
        f"{config.arch.upper()} VAE, {config.latent_dim}-D latent, trained on {checkpoint.dataset}; "
        f"{len(latents.index):,} {split} images, latent means shown by {method}."
    )
    figure = latent_map(projection.points, latents.labels, data.label_names, latents.index, projection.axis_titles)
    st.plotly_chart(figure, key="latent_map", on_select="rerun")
