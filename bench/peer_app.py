"""The peer for bench/browser_latency.py: the same three interactions written the plain way, in one file,
with nothing cached (what a notebook turned into a Streamlit app looks like). Same keys as the real app."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset, interpolate

st.set_page_config(layout="wide")
checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
data = load_dataset("mnist5k")
latents = encode_dataset(checkpoint.model, data, "test")
model = checkpoint.model

if st.query_params.get("page") == "generate":
    z = [st.slider(f"z{d}", -4.0, 4.0, 0.0, 0.05, key=f"z_{d}") for d in range(2)]
    with torch.no_grad():
        image = model.decode(torch.tensor([z])).numpy()[0, 0]
    with st.container(key="slider_decode"):
        st.image(np.kron(image, np.ones((10, 10))), clamp=True)
else:
    figure = go.Figure()
    for label in range(10):
        mask = latents.labels == label
        figure.add_trace(go.Scattergl(x=latents.mu[mask, 0], y=latents.mu[mask, 1], mode="markers",
                                      customdata=latents.index[mask], name=str(label)))
    event = st.plotly_chart(figure, key="latent_map", on_select="rerun")
    picks = st.session_state.setdefault("picks", [])
    rows = [p["customdata"] for p in event["selection"]["points"]] if event else []
    if len(rows) == 1 and rows[0] not in picks:
        picks.append(rows[0])
        del picks[:-2]
    if st.button("Clear picks", key="clear_picks"):
        picks.clear()
    if len(picks) == 2:
        position = [int(np.searchsorted(latents.index, r)) for r in picks]
        path = interpolate(latents.mu[position[0]], latents.mu[position[1]], 10)
        with torch.no_grad():
            images = model.decode(torch.from_numpy(path)).numpy()[:, 0]
        with st.container(key="interp_strip", horizontal=True):
            for image in [data.pixels(picks[0])[0], *images, data.pixels(picks[1])[0]]:
                st.image(np.kron(image, np.ones((3, 3))), clamp=True)
