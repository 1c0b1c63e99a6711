"""Decoding in the browser, at the speed of the hand: while a latent slider is dragged (Streamlit sends a slider's
value only on release) and under the cursor on a 2-D map. An st.components.v2 component runs the decoder in
JavaScript (live_decode.js) from the weights the page sends as data (explorer.webdecoder)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.checkpoint import Checkpoint
from explorer.webdecoder import decoder_payload

MAX_PAYLOAD_MB = 16  # a decoder larger than this is not sent to the browser: its images update on release


def max_payload_mb() -> float:
    """MAX_PAYLOAD_MB, or $EXPLORER_BROWSER_DECODER_MB (0: never decode in the browser, as the bench's peer does)."""
    try:
        return float(os.environ.get("EXPLORER_BROWSER_DECODER_MB", MAX_PAYLOAD_MB))
    except ValueError:
        return MAX_PAYLOAD_MB
_JS = Path(__file__).with_name("live_decode.js")


@functools.cache
def _js() -> str:
    """The component's code, read once per process (every rerun of a page that decodes mounts it)."""
    return _JS.read_text()
_CSS = ".live-decode { image-rendering: pixelated; display: block; border-radius: 4px; }" \
       ".hover-decode { image-rendering: pixelated; border-radius: 4px; }"


@st.cache_resource(max_entries=32, show_spinner=False)
def _payload(weights: str, label: int | None, view: tuple, _checkpoint: Checkpoint) -> bytes:
    return decoder_payload(_checkpoint.model, label, dict(view))


def payload(checkpoint: Checkpoint, label: int | None, **view) -> bytes | None:
    """The decoder's bytes for the browser (cached by weights, label and view), or None when it is too large."""
    key = tuple(sorted((k, tuple(map(tuple, v)) if isinstance(v, list) else v) for k, v in view.items()))
    data = _payload(checkpoint.fingerprint, label, key, checkpoint)
    return data if len(data) <= max_payload_mb() * 2**20 else None


def _mount(data: bytes, key: str) -> None:
    # Registered on every call: an identical definition is registered again silently, and each AppTest runtime
    # starts with an empty registry.
    component = st.components.v2.component("vae_live_decode", js=_js(), css=_CSS, isolate_styles=True)
    component(data=data, key=key, width="content")


def slider_decoder(checkpoint: Checkpoint, label: int | None, size: int, key: str) -> bool:
    """An image that redraws while any latent slider (keys z0, z1, ...) is dragged; False when the decoder is too
    large to send, and the page should draw the image itself."""
    data = payload(checkpoint, label, mode="sliders", size=size)
    if data is None:
        return False
    _mount(data, key)
    return True


def map_decoder(checkpoint: Checkpoint, chart_key: str, basis: np.ndarray, label: int | None = None,
                size: int = 112) -> bool:
    """The decoded image at the cursor while it moves over the map drawn with st.plotly_chart(key=chart_key); basis
    (2, D) maps the map's axes to z. False when the decoder is too large to send."""
    view = {"mode": "map", "chart": f".st-key-{chart_key}", "size": size,
            "basis": [[float(v) for v in row] for row in np.asarray(basis, np.float64)]}
    data = payload(checkpoint, label, **view)
    if data is None:
        return False
    _mount(data, f"hover_{chart_key}")
    return True
