"""The shareable URL: the view lives in the query string; a link is read once per visit, every value checked.

Nothing in a link is used as a file path: the model name is looked up among the server's known models, and
every number is parsed and range-checked. What cannot be used falls back to its default, with a notice.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from explorer.checkpoint import known_checkpoints
from explorer.projection import methods_for

RANGES = {  # key in the URL: (widget key, parser, low, high)
    "nn": ("umap_neighbors", int, 2, 100),
    "md": ("umap_min_dist", float, 0.0, 0.99),
    "perp": ("tsne_perplexity", int, 5, 100),
    "seed": ("projection_seed", int, 0, 10_000),
    "steps": ("interp_steps", int, 3, 24),
}
SLIDER_LIMIT = 4.0  # the generate page's sliders span +/- this: under the prior N(0, 1) all but 6e-5 of z


def _one(value: Any) -> str:
    return value[-1] if isinstance(value, list) else str(value)


def _number(text: str, parse: Callable, low: float, high: float):
    value = parse(text)
    if not (low <= value <= high) or value != value:  # range, and NaN
        raise ValueError
    return value


def restore_model(params: dict[str, Any], notices: list[str]) -> None:
    """Model and split, before the sidebar's widgets exist. Only server-side models can be named in a link."""
    if "model" in params:
        name = _one(params["model"])
        if name in known_checkpoints():
            st.session_state["model_name"] = name
        else:
            notices.append(f"the model {name[:60]!r} is not one of this server's models")
    if "split" in params:
        split = _one(params["split"])
        if split in ("test", "train", "all"):
            st.session_state["split"] = split
        else:
            notices.append(f"the split {split[:20]!r} is not test, train or all")


def restore_view(params: dict[str, Any], latent_dim: int, rows: np.ndarray | None, num_classes: int,
                 notices: list[str]) -> None:
    """Everything else, once the model is known (its latent size, data rows and labels bound what is valid)."""
    if "proj" in params:
        method = _one(params["proj"])
        if method in methods_for(latent_dim):
            st.session_state["projection"] = method
        else:
            notices.append(f"the projection {method[:20]!r} is not available for this model")
    for key, (widget, parse, low, high) in RANGES.items():
        if key in params:
            try:
                st.session_state[widget] = _number(_one(params[key]), parse, low, high)
            except (ValueError, OverflowError):
                notices.append(f"{key}={_one(params[key])[:20]!r} is not a number from {low} to {high}")
    if "interp" in params:
        how = _one(params["interp"])
        if how in ("linear", "slerp"):
            st.session_state["interp_method"] = how
        else:
            notices.append(f"the interpolation {how[:20]!r} is not linear or slerp")
    if "picks" in params:
        try:
            picks = [int(p) for p in _one(params["picks"]).split(",") if p != ""][:2]
            if rows is None or not all(np.isin(picks, rows)):
                raise ValueError
            st.session_state["picks"] = picks
            st.session_state["last_selection"] = ()
        except (ValueError, OverflowError):
            notices.append("the picked points are not in this model's data split")
    if "z" in params:
        try:
            z = [_number(v, float, -SLIDER_LIMIT, SLIDER_LIMIT) for v in _one(params["z"]).split(",")]
            if len(z) != latent_dim:
                raise ValueError
            for d, value in enumerate(z):
                st.session_state[f"z_{d}"] = value
        except (ValueError, OverflowError):
            notices.append(f"z needs {latent_dim} numbers from -{SLIDER_LIMIT:g} to {SLIDER_LIMIT:g}")
    if "label" in params:
        try:
            st.session_state["condition_label"] = _number(_one(params["label"]), int, 0, max(0, num_classes - 1))
        except (ValueError, OverflowError):
            notices.append("the label is not one of this model's classes")


def first_visit() -> tuple[dict[str, Any], list[str]] | None:
    """The link's parameters on a visit's first run (None afterwards): a link is read once, then the page rules."""
    if st.session_state.get("url_read"):
        return None
    st.session_state["url_read"] = True
    return st.query_params.to_dict(), st.session_state.setdefault("url_notices", [])


def show_notices() -> None:
    notices = st.session_state.get("url_notices")
    if notices:
        st.warning("This link had settings that could not be used, so their defaults are shown: "
                   + "; ".join(notices) + ".")
        st.button("OK", key="url_notices_ok", on_click=lambda: st.session_state.update(url_notices=[]))


def publish(view: dict[str, Any]) -> None:
    """Make the query string hold exactly this view (values that are None are left out), and show a copyable
    link to it in the sidebar. A view whose model lives only in this session (view["model"] None) says so."""
    clean = {k: str(v) for k, v in view.items() if v is not None and v != ""}
    if st.query_params.to_dict() != clean:
        st.query_params.from_dict(clean)
    with st.sidebar:
        _share_box(clean, shareable=view.get("model") is not None)


def _share_box(clean: dict[str, str], shareable: bool) -> None:
    """A copyable link (st.code has a copy button)."""
    with st.popover("Share this view", icon=":material/link:"):
        base = (st.context.url or "").split("?")[0]
        st.code(f"{base}?{urlencode(clean)}" if clean else base, language=None, wrap_lines=True)
        st.caption("Copy the link with the button at its right." + (
            "" if shareable else " This model lives only in your session: the link opens the default model. "
            "Save it on the Train page to share it."))
