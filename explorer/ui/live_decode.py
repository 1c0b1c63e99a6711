"""Drawing in the browser, at the speed of the hand: the Generate page's image while a latent slider is dragged
(Streamlit sends a slider's value only on release), and on a map the marks, the images as points, the image under
the cursor and the path decoded the moment B is clicked. Two st.components.v2 components (live_decode.js,
map_view.js, each after browser_core.js) read bundles made by explorer.webdecoder.

A decoder, a split's latent means and its images are sent once per session; later runs send their keys, and a
browser that lost them (a reload within the session) asks for them again."""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer.budget import SizedCache
from explorer.checkpoint import Checkpoint
from explorer.cost import cost_of
from explorer.data import ImageDataset
from explorer.latent import Latents
from explorer.ui import session
from explorer.webdecoder import Blob, bundle, decoder_blob, rows_blob

MAX_PAYLOAD_MB = 16  # a decoder larger than this is not sent to the browser: its images update on release
MAX_DECODE_MACS = 20_000_000  # ... nor one whose decode takes more multiply-adds (it must keep up with a drag)
DECODERS_BYTES = 64 * 2**20  # decoders made for browsers, kept at once
DECODER_IDLE_S = 120.0  # ... each let go once unused this long
MAX_IMAGES_MB = 8  # a split's images are sent (for images as points, and on hover) up to this size; beyond it,
ROWS_WANTED = 400  # the browser asks for the images of the points in view, at most this many
_HERE = Path(__file__).parent
_CSS = ".live-decode { image-rendering: pixelated; display: block; border-radius: 4px; }"


@dataclass
class Sent:
    """What this session sent the browser, by blob key: sent again only as a reference."""

    keys: set[str] = field(default_factory=set)


def _limit_mb(variable: str, default: float) -> float:
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        return default


def max_payload_mb() -> float:
    """MAX_PAYLOAD_MB, or $EXPLORER_BROWSER_DECODER_MB (0: never decode in the browser, as the bench's peer does)."""
    return _limit_mb("EXPLORER_BROWSER_DECODER_MB", MAX_PAYLOAD_MB)


@functools.cache
def _js(name: str) -> str:
    """A component's code (the shared core first), read once per process."""
    return (_HERE / "browser_core.js").read_text() + "\n" + (_HERE / name).read_text()


@st.cache_resource
def _decoders() -> SizedCache:
    return SizedCache(DECODERS_BYTES, DECODER_IDLE_S, size=lambda blob: len(blob.data))


def _decoder(weights: str, label: int | None, checkpoint: Checkpoint) -> Blob:
    return _decoders().get((weights, label), lambda: decoder_blob(checkpoint.model, label,
                                                                  key=f"decoder-{weights[:16]}-{label}"))


def browser_refusal(checkpoint: Checkpoint, label: int | None = None) -> str | None:
    """Why this model's decoder is not sent to browsers (too much work per decode, or too large), else None."""
    macs = cost_of(checkpoint.model).decode_macs
    if macs > MAX_DECODE_MACS:
        return (f"One decode of this model takes {macs / 1e6:,.0f} million multiply-adds, more than a browser does "
                f"smoothly ({MAX_DECODE_MACS / 1e6:,.0f} million)")
    if len(_decoder(checkpoint.fingerprint, label, checkpoint).data) > max_payload_mb() * 2**20:
        return f"This model's decoder is larger than {max_payload_mb():g} MB, too large to send to your browser"
    return None


def decoder(checkpoint: Checkpoint, label: int | None) -> Blob | None:
    """The decoder for the browser (folded for a label), or None when it is not sent (see `browser_refusal`)."""
    return None if browser_refusal(checkpoint, label) else _decoder(checkpoint.fingerprint, label, checkpoint)


class Lazy(NamedTuple):
    """A blob made only when it is sent (most runs send its key alone)."""

    kind: str
    key: str
    make: Callable[[], Blob]


def latents_blob(checkpoint: Checkpoint, split: str, latents: Latents) -> Lazy:
    key = f"latents-{checkpoint.fingerprint[:16]}-{split}"
    return Lazy("latents", key, lambda: rows_blob("latents", key, latents.index, latents.mu))


def images_blob(dataset: ImageDataset, split: str, rows: np.ndarray) -> Lazy | None:
    """These rows' images as uint8 (a split's, or those in view), or None when they are too many to send."""
    if len(rows) * int(np.prod(dataset.image_shape)) > _limit_mb("EXPLORER_BROWSER_IMAGES_MB", MAX_IMAGES_MB) * 2**20:
        return None
    which = hashlib.blake2b(np.asarray(rows, "<i4").tobytes(), digest_size=6).hexdigest()
    key = f"images-{dataset.fingerprint[:16]}-{split}-{which}"
    return Lazy("images", key, lambda: rows_blob("images", key, rows, dataset.images[rows]))


def _once(blobs: list[Blob | Lazy | None]) -> list[Blob]:
    """Each blob with its data the first time this session sends it, as a reference after."""
    sent = session.page_state(Sent).keys
    out = []
    for blob in (b for b in blobs if b is not None):
        if blob.key in sent:
            out.append(Blob(blob.kind, blob.key, {}, None))
        else:
            out.append(blob.make() if isinstance(blob, Lazy) else blob)
            sent.add(blob.key)
    return out


def _mount(name: str, js: str, view: dict, blobs: list[Blob | Lazy | None], key: str, isolate: bool = True):
    """The component, and what it asked for on this run (its trigger values)."""
    # Registered on every call: an identical definition is registered again silently, and each AppTest runtime
    # starts with an empty registry.
    component = st.components.v2.component(name, js=_js(js), css=_CSS, isolate_styles=isolate)
    result = component(data=bundle(view, _once(blobs)), key=key, width="stretch" if not isolate else "content",
                       on_missing_change=lambda: None, on_rows_change=lambda: None)
    missing = getattr(result, "missing", None)
    sent = session.page_state(Sent).keys
    if isinstance(missing, list) and sent.intersection(map(str, missing)):  # the browser lost them: send again
        sent.difference_update(map(str, missing))
        st.rerun()
    return result


def slider_decoder(checkpoint: Checkpoint, label: int | None, size: int, key: str) -> bool:
    """An image that redraws while any latent slider (keys z0, z1, ...) is dragged; False when the decoder is too
    large to send, and the page should draw the image itself."""
    blob = decoder(checkpoint, label)
    if blob is None:
        return False
    _mount("vae_live_decode", "live_decode.js", {"mode": "sliders", "size": size}, [blob], key)
    return True


def map_decoder(checkpoint: Checkpoint, chart_key: str, basis: np.ndarray, label: int | None = None,
                size: int = 112) -> bool:
    """The decoded image at the cursor while it moves over the map drawn with st.plotly_chart(key=chart_key); basis
    (2, D) maps the map's axes to z. False when the decoder is too large to send."""
    blob = decoder(checkpoint, label)
    if blob is None:
        return False
    map_view(chart_key, {"basis": _plane(basis)}, [blob], size=size)
    return True


def map_view(chart_key: str, view: dict, blobs: list[Blob | Lazy | None], size: int = 112) -> list[int]:
    """The map component for the chart drawn with st.plotly_chart(key=chart_key): view holds what it draws (see
    map_view.js: basis, marks, thumbs, instant, rows_wanted), blobs what it draws it with. Returns the rows whose
    images it asked for on this run (zoomed in on data too large to send whole), else []."""
    view = {"mode": "map", "chart": f".st-key-{chart_key}", "size": size} | view
    result = _mount("vae_map_view", "map_view.js", view, blobs, f"hover_{chart_key}", isolate=False)
    return asked_rows(getattr(result, "rows", None))


def asked_rows(value) -> list[int]:
    """The rows a browser asked images for, as far as they are rows (a browser can send anything)."""
    if not isinstance(value, list):
        return []
    return [r for r in value[:ROWS_WANTED] if isinstance(r, int) and not isinstance(r, bool) and 0 <= r < 2**31]


def _plane(basis: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.asarray(basis, np.float64)]
