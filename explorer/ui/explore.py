"""The explorer page: the latent map, picking points, and decoding the path between two of them."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.imaging import enlarge, gif_bytes, png_bytes, tile, to_uint8
from explorer.latent import Latents, decode_latents, interpolate
from explorer.plots import latent_map, path_map
from explorer.projection import DEFAULT_PARAMS, METHOD_LABELS, Projection, methods_for
from explorer.ui import state, url

CONTROL_DEFAULTS = {"umap_neighbors": DEFAULT_PARAMS["umap"]["n_neighbors"],
                    "umap_min_dist": DEFAULT_PARAMS["umap"]["min_dist"],
                    "tsne_perplexity": int(DEFAULT_PARAMS["tsne"]["perplexity"]), "projection_seed": 0,
                    "interp_steps": 10, "interp_method": "linear"}
ELLIPSE_SAMPLE = 300  # posteriors drawn as ellipses: enough to see the packing, few enough to read
THUMB = 72  # pixels per image in the strip: A, 10 steps and B fit on one row of the wide layout


def _projection_controls(latent_dim: int) -> tuple[str, dict, int]:
    methods = methods_for(latent_dim)
    if st.session_state.get("projection") not in methods:
        st.session_state["projection"] = methods[0]
    cols = st.columns([2, 2, 2, 1])
    method = cols[0].selectbox("Projection", methods, format_func=METHOD_LABELS.get, key="projection",
                               help="Identity plots a 2-D latent as it is; the others flatten more dimensions.")
    for key, default in CONTROL_DEFAULTS.items():  # defaults via state, so a shared link can preset them
        st.session_state.setdefault(key, default)
    params: dict = {}
    if method == "umap":
        params["n_neighbors"] = cols[1].slider("Neighbours", 2, 100, key="umap_neighbors",
                                               help="Small: local detail; large: global shape.")
        params["min_dist"] = cols[2].slider("Minimum distance", 0.0, 0.99, step=0.01, key="umap_min_dist",
                                            help="How tightly UMAP may pack points together.")
    elif method == "tsne":
        params["perplexity"] = float(cols[1].slider("Perplexity", 5, 100, key="tsne_perplexity",
                                                    help="Roughly the number of neighbours each point keeps close."))
    seed = 0
    if method in ("umap", "tsne"):
        seed = int(cols[3].number_input("Seed", 0, 10_000, key="projection_seed"))
    return method, params, seed


def _projection(selection: state.Selection, latents: Latents, method: str, params: dict, seed: int) -> Projection:
    """The cached projection, or compute it while a quick one (identity or PCA) is shown with a progress bar."""
    ready = state.cached_projection(selection, latents, method, params, seed)
    if ready is not None:
        return ready
    if method in ("identity", "pca"):
        return state.get_projection(selection, latents, method, params, seed)
    placeholder = st.empty()
    with placeholder.container():
        quick = "identity" if latents.mu.shape[1] == 2 else "pca"
        preview = state.get_projection(selection, latents, quick, {}, 0)
        bar = st.progress(0.0, text=f"Computing {METHOD_LABELS[method]} ... showing {METHOD_LABELS[quick]} meanwhile.")
        st.plotly_chart(_map_figure(selection, latents, preview), key="latent_map_preview")
    report = None
    if method == "tsne":
        report = lambda f: bar.progress(f, text=f"Computing t-SNE: {f:.0%}")  # noqa: E731
    result = state.get_projection(selection, latents, method, params, seed, progress=report)
    placeholder.empty()
    return result


def _map_figure(selection: state.Selection, latents: Latents, projection: Projection, ellipses: bool = False):
    sigma = None
    if ellipses:
        sigma = np.full((len(latents.mu), 2), np.nan, np.float32)
        shown = np.random.default_rng(0).choice(len(sigma), min(ELLIPSE_SAMPLE, len(sigma)), replace=False)
        sigma[shown] = np.exp(0.5 * latents.logvar[shown])
    view = f"{selection.checkpoint.fingerprint[:12]}-{selection.split}-{projection.method}"  # a new map, a new zoom
    return latent_map(projection.points, latents.labels, selection.dataset.label_names, latents.index,
                      projection.axis_titles, sigma=sigma, uirevision=view)


def _row_of(point: dict) -> int | None:
    data = point.get("customdata")
    if isinstance(data, (list, tuple)):
        data = data[0] if data else None
    return int(data) if data is not None else None


def _take_selection(event) -> None:
    """A single clicked point becomes the newest pick (two at most); a box or lasso gets a hint instead."""
    points = event["selection"]["points"] if event else []
    rows = [r for r in (_row_of(p) for p in points) if r is not None]
    signature = tuple(rows)
    if signature == st.session_state.get("last_selection"):
        return  # the chart re-sends its selection on every rerun: act on changes only
    st.session_state["last_selection"] = signature
    st.session_state.pop("selection_note", None)
    picks = state.picks()
    if len(rows) == 1 and (not picks or picks[-1] != rows[0]):
        picks.append(rows[0])
        del picks[:-2]
    elif len(rows) > 1:
        st.session_state["selection_note"] = (
            f"That selection holds {len(rows)} points. Click single points to pick the two ends of a path."
        )


def _position(latents: Latents, row: int) -> int:
    return int(np.searchsorted(latents.index, row))


def _show_pick(tag: str, row: int, selection: state.Selection, latents: Latents) -> None:
    checkpoint, data = selection.checkpoint, selection.dataset
    i = _position(latents, row)
    mu, sigma = latents.mu[i], np.exp(0.5 * latents.logvar[i])
    label = int(latents.labels[i]) if latents.labels is not None else None
    recon = decode_latents(checkpoint.model, mu[None], label)[0]
    images = to_uint8(np.stack([data.images[row], recon]))
    fmt = lambda v: ", ".join(f"{x:+.2f}" for x in v)  # noqa: E731
    with st.container(key=f"pick_{tag}"):
        st.markdown(f"**{tag}** · row {row}" + (f" · label **{data.label_names[label]}**" if label is not None else ""))
        with st.container(horizontal=True):
            st.image(enlarge(images[0], 112), caption="image", width=112, output_format="PNG")
            st.image(enlarge(images[1], 112), caption="reconstruction", width=112, output_format="PNG")
        st.caption(f"mean μ = [{fmt(mu)}]  \nσ = [{fmt(sigma)}]")


def _interpolation(selection: state.Selection, latents: Latents, projection: Projection, picks: list[int]) -> None:
    checkpoint, data = selection.checkpoint, selection.dataset
    st.subheader("The path from A to B, decoded")
    cols = st.columns(2)
    steps = cols[0].slider("Images along the path", 3, 24, key="interp_steps")
    method = cols[1].radio("Interpolation", ["linear", "slerp"], key="interp_method", horizontal=True,
                           format_func={"linear": "linear", "slerp": "spherical (slerp)"}.get)
    a, b = (_position(latents, r) for r in picks)
    path = interpolate(latents.mu[a], latents.mu[b], steps, method)
    label = int(latents.labels[a]) if latents.labels is not None else None
    decoded = to_uint8(decode_latents(checkpoint.model, path, label))
    ends = to_uint8(data.images[picks])
    frames = [enlarge(f, THUMB) for f in (ends[0], *decoded, ends[1])]
    captions = ["A (image)", *(f"{t:.2f}" for t in np.linspace(0, 1, steps)), "B (image)"]
    with st.container(key="interp_strip", horizontal=True, gap="small"):
        for frame, caption in zip(frames, captions):
            st.image(frame, caption=caption, width=THUMB, output_format="PNG")
    if checkpoint.model_config.conditional and label is not None:
        st.caption(f"A conditional model: every step is decoded as A's label, {data.label_names[label]}.")
    left, right = st.columns([3, 2])
    path_xy = projection.transform(path)
    with left:
        st.plotly_chart(path_map(projection.points, path_xy, projection.points[[a, b]], projection.axis_titles,
                                 projection.exact), key="path_map")
        st.caption("Where the path runs on the map" + (
            "." if projection.exact else
            f": {METHOD_LABELS[projection.method]} places the decoded points by their neighbours, so this is approximate."
        ))
    with right:
        name = f"path-{picks[0]}-{picks[1]}-{method}"
        st.download_button("Download the strip (PNG)", png_bytes(tile(np.stack(frames), columns=len(frames))),
                           file_name=f"{name}.png", mime="image/png", key="download_strip_png")
        st.download_button("Download the path as an animation (GIF)", gif_bytes(np.stack(frames[1:-1])),
                           file_name=f"{name}.gif", mime="image/gif", key="download_strip_gif")


def render() -> None:
    selection = state.model_sidebar()
    st.title("Explore the latent space")
    url.show_notices()
    if selection.dataset is None:
        st.info(selection.data_problem)
        return
    latents = state.current_latents(selection)
    known = set(latents.index.tolist())
    state.picks()[:] = [row for row in state.picks() if row in known]  # picks from another split or model
    latent_dim = selection.checkpoint.model_config.latent_dim
    method, params, seed = _projection_controls(latent_dim)
    ellipses = False
    if method == "identity":
        ellipses = st.checkbox(
            f"Draw posteriors as ±1σ ellipses ({min(ELLIPSE_SAMPLE, len(latents.mu))} points)", key="show_sigma",
            help="The reconstruction term pushes these bubbles apart; the KL term packs them around the origin.",
        )
    projection = _projection(selection, latents, method, params, seed)

    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(_map_figure(selection, latents, projection, ellipses), key="latent_map",
                                on_select="rerun", selection_mode=("points", "box", "lasso"))
        _take_selection(event)
        what = {"test": "test images", "train": "training images", "all": "images (the whole data set)"}[selection.split]
        st.caption(f"{len(latents.index):,} {what}, latent means, by {METHOD_LABELS[method]}. "
                   "Click a point to pick it; click a second for the path between them.")
    picks = state.picks()
    with right:
        if st.session_state.get("selection_note"):
            st.info(st.session_state["selection_note"])
        if not picks:
            st.info("Click a point on the map to see its image and reconstruction.")
        for tag, row in zip("AB", picks):
            _show_pick(tag, row, selection, latents)
        st.button("Clear picks", key="clear_picks", on_click=state.clear_picks, disabled=not picks)
    if len(picks) == 2:
        _interpolation(selection, latents, projection, picks)
    elif picks:
        st.caption("Pick a second point to decode the path from A to it.")
    _exports(selection, latents)
    view = {**state.shared_view(selection), "proj": method, **_url_params(method, params, seed)}
    if len(picks) == 2:
        view.update(interp=st.session_state["interp_method"], steps=st.session_state["interp_steps"])
    url.publish(view)


def _exports(selection: state.Selection, latents: Latents) -> None:
    with st.expander("Export"):
        model = selection.name.replace(": ", "-").replace(" ", "_")
        stem = f"{model}-{selection.split}"
        cols = st.columns(3)
        csv_text, projector = state.exports(selection.checkpoint.fingerprint, selection.dataset.name, selection.split,
                                            latents, selection.dataset.label_names)
        cols[0].download_button("Latent means and labels (CSV)", csv_text,
                                file_name=f"{stem}-latents.csv", mime="text/csv", key="export_csv")
        cols[1].download_button("For the Embedding Projector (zip)", projector,
                                file_name=f"{stem}-projector.zip", mime="application/zip", key="export_projector",
                                help="vectors.tsv and metadata.tsv: load both at projector.tensorflow.org.")
        cols[2].download_button("This model (.safetensors)", selection.checkpoint.payload,
                                file_name=f"{model}.safetensors",
                                mime="application/octet-stream", key="export_checkpoint")


def _url_params(method: str, params: dict, seed: int) -> dict:
    if method == "umap":
        return {"nn": params["n_neighbors"], "md": params["min_dist"], "seed": seed}
    if method == "tsne":
        return {"perp": int(params["perplexity"]), "seed": seed}
    return {}
