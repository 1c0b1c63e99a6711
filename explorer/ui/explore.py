"""The explorer page: the latent map, picking points, and decoding the path between two of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import streamlit as st

from explorer.config import COLOURINGS, SCORE_COLOURINGS, MapConfig, PathConfig, ProjectionConfig, ScoreConfig
from explorer.settings import link_text, specs
from explorer.data import Factor
from explorer.compare import prior_fit
from explorer.glossary import define
from explorer.numbers import share
from explorer.lessons.extremes import spread
from explorer.neighbours import nearest, neighbour_spacing
from explorer.imaging import enlarge, gif_bytes, png_bytes, tile, to_uint8
from explorer.latent import (
    DENSITY_CELLS, Latents, aggregate_density, decode_latents, density_grid, interpolate, point_histogram,
)
from explorer.plots import density_figure, latent_map, sigma_bars
from explorer.projections import METHODS, Projection, methods_for
from explorer.ui import group_panel, live_decode, resources, session, sidebar, url
from explorer.ui.scores import SCORE_NAMES, image_scores
from explorer.ui.markup import plain, quoted
from explorer.ui.sidebar import Selection
from explorer.ui.widgets import setting_key, setting_widget

PATH_ANCHOR = "path"  # the path's heading: where a link (or a lesson) can open the page
ELLIPSE_SAMPLE = 300  # posteriors drawn as ellipses: enough to see the packing, few enough to read
STRIP_WIDTH = 820  # pixels the strip may take: the main column at a 1400-px window, beside the sidebar
STRIP_GAP = 8  # pixels between images ("xsmall")
ROOMY = 52  # pixels: images at least this wide take two-word captions ("A (image)"; its longest word fits)
GIF_SIZE = 192  # pixels a side of the path's animation: readable where it is shown or shared
FACTOR_KEY = "factor"  # the known factor that colours the map: its widget's key and the link's parameter
MAP = "latent_map"  # the map's widget key (its first round's: see map_key)


@dataclass
class ExploreState:
    """What the Explore page keeps between runs."""

    last_selection: tuple = ()  # the map's last selection, to act on changes only
    map_round: int = 0  # the map is drawn afresh (a new key) once a box or lasso is taken: see map_key
    rows_in_view: list[int] = field(default_factory=list)  # the zoomed map's rows whose images the browser asked for


def map_key() -> str:
    """The map's widget key now. A box or lasso holds many points, and a chart re-sends its selection with every
    later rerun (about 130 bytes a point), so once taken the map is drawn under a new key, without it."""
    state = session.page_state(ExploreState)
    return MAP if state.map_round == 0 else f"{MAP}-{state.map_round}"


def _projection_controls(latent_dim: int) -> ProjectionConfig:
    """The projection and its parameters; a method's parameters keep their values while another is shown."""
    methods = methods_for(latent_dim)
    key = setting_key(ProjectionConfig, "method")
    session.offer(key, methods, methods[0], drawn=methods[0])
    most = max(2, *(len(METHODS[m].parameters) for m in methods))  # the same columns whichever method is shown
    cols = st.columns([2, *[2] * most, 1])
    method = setting_widget(ProjectionConfig, "method", cols[0], choices=methods, default=methods[0])
    values = {"method": method}
    for i, name in enumerate(METHODS[method].parameters, start=1):
        values[name] = setting_widget(ProjectionConfig, name, cols[i])
    if METHODS[method].random:
        values["seed"] = setting_widget(ProjectionConfig, "seed", cols[-1])
    return ProjectionConfig(**values)


def _quick_method(latent_dim: int) -> str:
    """The map shown while a slow one computes: the latent itself when it is 2-D, else the first quick method."""
    return next(name for name in methods_for(latent_dim) if METHODS[name].quick)


def _cancel_projection(latent_dim: int) -> None:
    session.set_widget(setting_key(ProjectionConfig, "method"), _quick_method(latent_dim))


def _projection(selection: Selection, latents: Latents, config: ProjectionConfig) -> Projection:
    """The cached projection, or compute it while a quick one is shown with a progress bar (and, for a method
    that reports progress, a Cancel that goes back to the quick one)."""
    where = (selection.checkpoint, selection.dataset, selection.split, latents)
    ready = resources.ready_projection(*where, config, selection.server_path)
    if ready is not None:
        return ready
    method = METHODS[config.method]
    if method.quick:
        return resources.projection(*where, config)
    placeholder = st.empty()
    with placeholder.container():
        quick = METHODS[_quick_method(latents.mu.shape[1])]
        preview = resources.projection(*where, ProjectionConfig(method=quick.name))
        bar = st.progress(0.0, text=f"Computing {method.label} ... showing {quick.label} meanwhile.")
        report = None
        if method.stops:  # the click reruns the page, which stops this run at its next progress report
            st.button("Cancel", key="cancel_projection", on_click=_cancel_projection, args=(latents.mu.shape[1],),
                      help=f"Stop computing {method.label} and show {quick.label}.")
        if method.reports_progress:
            report = lambda f: bar.progress(f, text=f"Computing {method.label}: {f:.0%}")  # noqa: E731
        st.plotly_chart(_map_figure(selection, latents, preview), key="latent_map_preview")
    try:
        result = resources.projection(*where, config, selection.server_path, progress=report)
    except ValueError as error:  # parameters the method cannot use on these points: say so, keep the quick map
        placeholder.empty()
        st.error(f"The {method.label} map could not be made with these settings ({plain(str(error))}); "
                 f"showing {quick.label}.")
        return preview
    placeholder.empty()
    return result


def _map_figure(selection: Selection, latents: Latents, projection: Projection, marks: str = "points",
                colour: tuple | None = None):
    """colour: (values, name) to colour the points by a score, or None for their labels."""
    sigma = None
    if marks != "points":
        sigma = np.full((len(latents.mu), 2), np.nan, np.float32)
        shown = np.random.default_rng(0).choice(len(sigma), min(ELLIPSE_SAMPLE, len(sigma)), replace=False)
        sigma[shown] = np.exp(0.5 * latents.logvar[shown])
    view = f"{selection.checkpoint.fingerprint[:12]}-{selection.split}-{projection.method}"  # a new map, a new zoom
    values, name = colour or (None, "")
    labels, label_names, legend = latents.labels, selection.dataset.label_names, "label"
    if isinstance(values, Factor) and values.categorical:  # a known factor's levels, coloured as labels are
        labels, label_names, legend, values = values.values, values.levels, values.name, None
    elif isinstance(values, Factor):  # a known quantity, on a scale
        values = values.values
    fig = latent_map(projection.points, labels, label_names, latents.index,
                     projection.axis_titles, sigma=sigma, uirevision=view, marks=marks, values=values, value_name=name)
    return fig.update_layout(legend_title_text=legend)


def _check_link(colours: tuple[str, ...], factors) -> None:
    """Say when a link's colouring or factor is not one this model's data has (the bound widgets drop it silently)."""
    colour, factor = url.asked("colour"), url.asked(FACTOR_KEY)
    _, spec = specs(MapConfig)["colour"]
    offered = {link_text(spec, c) for c in colours}
    if colour is not None and colour not in offered and colour in {link_text(spec, c) for c in COLOURINGS}:
        url.reject("colour", f"colour={quoted(colour)} is not offered for this model (it colours by "
                       f"{', '.join(sorted(offered))})")
    names = [f.name for f in factors]
    if factor is not None and factor not in names:
        url.reject(FACTOR_KEY, f"factor={quoted(factor)} is not a known factor of this model's data"
                       + (f" ({', '.join(names)})" if names else " (it has none)"))


def _map_controls(selection: Selection, latents: Latents,
                  method: str) -> tuple[MapConfig, ScoreConfig | None, Factor | None]:
    """How the map draws its points (a VAE's bubbles, on a 2-D identity map), what colours them, the scores'
    settings when a score does, and the known factor when one does."""
    vae = latents.logvar is not None  # an autoencoder has no σ to draw, nor a likelihood to colour by
    factors = selection.dataset.factors
    colours = tuple(c for c in COLOURINGS if (vae or c not in SCORE_COLOURINGS) and (factors or c != "factor"))
    bubbles = METHODS[method].latent_axes and vae  # the only map whose axes can carry a σ
    cols = st.columns([3, 2, 2, 2] if bubbles else [2, 2, 2], vertical_alignment="bottom")
    images = setting_widget(MapConfig, "images", cols[-1])
    if not vae and len(colours) == 1:
        return MapConfig(images=images), None, None
    _check_link(colours, factors)
    marks = setting_widget(MapConfig, "marks", cols[0], prefix="map") if bubbles else "points"
    cols = cols[1:] if bubbles else cols  # the colour, then what it needs: no gap where the marks are not offered
    view = MapConfig(marks=marks, colour=setting_widget(MapConfig, "colour", cols[0], choices=colours), images=images)
    if view.colour == "factor":
        name = cols[1].selectbox("Factor", [f.name for f in factors], key=FACTOR_KEY, bind="query-params",
                                 persist_state="session", help="A factor the data set was made from.")
        return view, None, selection.dataset.factor(name)
    if view.colour == "label":
        return view, None, None
    if view.colour != "log_px":
        return view, ScoreConfig(), None  # the ELBO and its terms do not depend on k
    return view, ScoreConfig(k=setting_widget(ScoreConfig, "k", cols[1])), None


def _bubble_of_bubbles(latents: Latents) -> None:
    """The aggregate posterior q(z) against the prior, for a 2-D identity map; drawn only while its expander is
    open (it is a second chart, and most visits never open it)."""
    box = st.expander("The bubble of bubbles: all the posteriors together, against the prior", key="bubble_of_bubbles",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        xs, ys = density_grid(latents.mu, latents.logvar, DENSITY_CELLS)
        fit = prior_fit(latents)
        reach = (f"{share(fit.inside)} of the encoded images lie inside the prior's 99% disc, and {share(fit.covered)} "
                 "of prior samples land near one (95% when the two match).")
        if latents.logvar is None:
            st.info("An autoencoder has no bubbles: each image is one point, with no σ, and no KL term pulls the "
                    "points toward the prior. Below is only a histogram of those points.")
            st.plotly_chart(density_figure(xs, ys, point_histogram(latents.mu, xs, ys), "histogram of codes"),
                            key="code_histogram")
            st.caption(f"The codes against the prior's circles: {reach}", help=define("autoencoder", "prior"))
            return
        st.plotly_chart(density_figure(xs, ys, aggregate_density(latents.mu, latents.logvar, xs, ys), "q(z)"),
                        key="aggregate_density")
        st.caption(f"q(z) = (1/N) Σ N(z; μᵢ, σᵢ²): the {len(latents.mu):,} bubbles averaged, under the circles of the "
                   f"prior N(0, I) that the Generate page samples. {reach}",
                   help=define("aggregate posterior", "prior", "KL"))


def _row_of(point: dict) -> int | None:
    data = point.get("customdata")
    if isinstance(data, (list, tuple)):
        data = data[0] if data else None
    try:
        return int(data)  # the row the map put there
    except (TypeError, ValueError, OverflowError):
        return None  # anything else a browser may send


def _take_selection(event) -> None:
    """A single clicked point becomes the newest pick (two at most); a box or lasso becomes a group to name, and
    the map is drawn afresh without the selection (which would otherwise travel with every later rerun)."""
    points = event["selection"]["points"] if event and event.get("selection") else []
    rows = [r for r in (_row_of(p) for p in points) if r is not None]
    signature = tuple(rows)
    state = session.page_state(ExploreState)
    if signature == state.last_selection:
        return  # the chart re-sends its selection on every rerun: act on changes only
    state.last_selection = signature
    me = session.visitor()
    picks = me.picks
    if len(rows) == 1 and (not picks or picks[-1] != rows[0]):
        picks.append(rows[0])
        del picks[:-2]
    elif len(rows) > 1:
        me.pending_group = tuple(sorted(set(rows)))
        state.map_round += 1
        state.last_selection = ()


def _position(latents: Latents, row: int) -> int:
    return int(np.searchsorted(latents.index, row))


def _show_pick(tag: str, row: int, selection: Selection, latents: Latents) -> None:
    checkpoint, data = selection.checkpoint, selection.dataset
    i = _position(latents, row)
    mu = latents.mu[i]
    label = int(latents.labels[i]) if latents.labels is not None else None
    recon = decode_latents(checkpoint.model, mu[None], label)[0]
    images = to_uint8(np.stack([data.pixels(row), recon]))
    fmt = lambda v: ", ".join(f"{x:+.2f}" for x in v)  # noqa: E731
    with st.container(key=f"pick_{tag}"):
        st.markdown(f"**{tag}** · row {row}"
                    + (f" · label **{plain(data.label_names[label])}**" if label is not None else ""))
        with st.container(horizontal=True):
            st.image(enlarge(images[0], 112), caption="image", width=112, output_format="PNG")
            st.image(enlarge(images[1], 112), caption="reconstruction", width=112, output_format="PNG")
        if latents.logvar is None:
            st.caption(f"code z = [{fmt(mu)}]  \nAn autoencoder encodes each image to this one point: no σ.")
        else:
            sigma = np.exp(0.5 * latents.logvar[i])
            st.caption(f"mean μ = [{fmt(mu)}]  \nσ = [{fmt(sigma)}]")
            st.plotly_chart(sigma_bars(sigma), key=f"sigma_{tag}")
            st.caption("σ per dimension: reconstruction shrinks it (a narrow bubble says exactly which image this "
                       "is); the KL term pulls it back toward the prior's 1.", help=define("σ", "KL", "prior"))


def _path_controls() -> PathConfig:
    cols = st.columns(2)
    return PathConfig(steps=setting_widget(PathConfig, "steps", cols[0]),
                      method=setting_widget(PathConfig, "method", cols[1]))


class MapPath(NamedTuple):
    """The decoded path as the map draws it, and the settings it was decoded with (for the link)."""

    config: PathConfig
    points: np.ndarray  # (steps, 2), in the map's coordinates


def _interpolation(selection: Selection, latents: Latents, projection: Projection, picks: list[int]) -> MapPath:
    checkpoint, data = selection.checkpoint, selection.dataset
    st.subheader("The path from A to B, decoded", anchor=PATH_ANCHOR)
    config = _path_controls()
    steps, method = config.steps, config.method
    a, b = (_position(latents, r) for r in picks)
    path = interpolate(latents.mu[a], latents.mu[b], steps, method)
    label = int(latents.labels[a]) if latents.labels is not None else None
    decoded = to_uint8(decode_latents(checkpoint.model, path, label))
    ends = to_uint8(data.pixels(picks))
    thumb = _thumb(steps)
    frames = [enlarge(f, thumb) for f in (ends[0], *decoded, ends[1])]
    roomy = thumb >= ROOMY  # a caption never breaks inside a word: narrow images get the short form
    captions = ["A (image)" if roomy else "A", *(f"{t:.2f}" for t in np.linspace(0, 1, steps)),
                "B (image)" if roomy else "B"]
    with st.container(key="interp_rows"):  # one row each, scrolled together where the page is narrower
        with st.container(key="interp_strip", horizontal=True, gap="xsmall"):
            for frame, caption in zip(frames, captions):
                st.image(frame, caption=caption, width=thumb, output_format="PNG")
        distances = _nearest_strip(data, latents, path, thumb)
    st.caption(f"Below each step: the image whose latent mean lies nearest it, {distances.min():.2f} to "
               f"{distances.max():.2f} away (in latent units); an image of this split lies a median "
               f"{neighbour_spacing(latents):.2f} from its nearest neighbour.")
    if not projection.exact:
        st.caption(f"The black line on the map is this path: {METHODS[projection.method].label} places its decoded "
                   "points by their neighbours, so where it runs there is approximate.")
    if checkpoint.model_config.conditional and label is not None:
        st.caption(f"A conditional model: every step is decoded as A's label, {plain(data.label_names[label])}.")
    name = f"path-{picks[0]}-{picks[1]}-{method}"
    with st.container(horizontal=True):
        st.download_button("Download the strip (PNG)", png_bytes(tile(np.stack(frames), columns=len(frames))),
                           file_name=f"{name}.png", mime="image/png", key="download_strip_png")
        st.download_button("Download the path as an animation (GIF)",
                           gif_bytes(np.stack([enlarge(f, GIF_SIZE) for f in decoded])),
                           file_name=f"{name}.gif", mime="image/gif", key="download_strip_gif")
    return MapPath(config, projection.transform(path))


def _nearest_strip(data, latents: Latents, path: np.ndarray, thumb: int) -> np.ndarray:
    """Under each decoded step, the real image whose latent mean lies nearest it: where the path passes data and
    where it crosses a gap between clusters (the row's step is far, and the image unlike the decoded one). Returns
    their distances."""
    distances, where = nearest(latents, path)
    distances, rows = distances[:, 0], latents.index[where[:, 0]]
    images = to_uint8(data.pixels(rows))
    with st.container(key="interp_nearest", horizontal=True, gap="xsmall"):
        st.markdown("nearest real image" if thumb >= ROOMY else "", width=thumb)  # under A: the row's name
        for image, distance in zip(images, distances):
            st.image(enlarge(image, thumb), caption=f"{distance:.2f}" + (" away" if thumb >= ROOMY else ""),
                     width=thumb, output_format="PNG")
    return distances


def render() -> None:
    if (page := sidebar.data_page("Explore the latent space")) is None:
        return
    selection, latents = page
    st.page_link("explorer/ui/pages/lessons.py",
                 label="New to VAEs? Six questions, answered with pictures: the Lessons", icon=":material/school:")
    me = session.visitor()
    known = set(latents.index.tolist())
    me.picks[:] = [row for row in me.picks if row in known]  # picks from another split or model
    latent_dim = selection.checkpoint.model_config.latent_dim
    config = _projection_controls(latent_dim)
    view, scoring, factor = _map_controls(selection, latents, config.method)
    marks, colour = view.marks, None
    if scoring is not None:
        colour = (getattr(image_scores(selection, scoring), view.colour), SCORE_NAMES[view.colour])
    elif factor is not None:
        colour = (factor.take(latents.index), f"{factor.name} ({factor.unit})" if factor.unit else factor.name)
    projection = _projection(selection, latents, config)
    _take_selection(session.widget_value(map_key()))  # before the map draws: a lasso redraws it afresh

    identity_2d = latent_dim == 2 and METHODS[config.method].latent_axes
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(_map_figure(selection, latents, projection, marks, colour), key=map_key(),
                        on_select="rerun", selection_mode=("points", "box", "lasso"))
        _map_captions(selection, latents, config.method, marks, factor, colour)
        hover_slot = st.container()  # what the cursor does there, said once the browser's part is mounted
    picks = me.picks
    with right:
        group_panel.pending(selection)
        if not picks:
            st.info("Click a point on the map to see its image and reconstruction.")
        for tag, row in zip("AB", picks):
            _show_pick(tag, row, selection, latents)
        st.button("Clear picks", key="clear_picks", on_click=session.clear_picks, disabled=not picks)
    link = url.settings_link(config, {"method": methods_for(latent_dim)[0]})
    link |= url.settings_link(view) | (url.settings_link(scoring) if scoring else {})
    path = None
    browser_slot = st.container()  # where the browser draws the path the moment B is clicked
    if len(picks) == 2:
        path = _interpolation(selection, latents, projection, picks)
        link |= url.settings_link(path.config)
    elif picks:
        st.caption("Pick a second point to decode the path from A to it.")
    with browser_slot:
        _browser_view(selection, latents, view, identity_2d, path, hover_slot)
    _exports(selection, latents)
    sidebar.publish(selection, link)


def _browser_view(selection: Selection, latents: Latents, view: MapConfig, identity_2d: bool,
                  path: MapPath | None, hover_slot) -> None:
    """What the browser draws over the map (explorer.ui.live_decode): the picks, the path, the pending box or lasso
    and the saved groups, without changing the figure (a new figure is a new chart, and its zoom is lost); the
    images as points and on hover; the image decoded under the cursor on a 2-D identity map; and, with one pick,
    the path decoded there the moment B is clicked."""
    me, state = session.visitor(), session.page_state(ExploreState)
    groups = [{"name": g.name, "rows": np.intersect1d(g.rows, latents.index).tolist()}
              for g in session.groups(selection.dataset.fingerprint).values()]
    marks = {"picks": list(me.picks), "path": None if path is None else path.points.round(4).tolist(),
             "selected": list(me.pending_group), "groups": [g for g in groups if g["rows"]]}
    browser = {"marks": marks, "thumbs": "always" if view.images else "zoomed"}
    names, checkpoint = selection.condition_names, selection.checkpoint
    decoder = live_decode.decoder(checkpoint, 0 if names else None)  # free z are decoded as the first label
    blobs = [live_decode.images_blob(selection.dataset, selection.split, latents.index)]
    if blobs[0] is None:  # too many to send: the browser asks for those in view once zoomed in
        browser["rows_wanted"] = True
        shown = np.intersect1d(state.rows_in_view, latents.index)
        blobs[0] = live_decode.images_blob(selection.dataset, selection.split, shown) if len(shown) else None
    if decoder is not None and identity_2d:
        browser["basis"] = np.eye(2).tolist()
    if decoder is not None and len(me.picks) == 1 and not names:  # a conditional path is decoded as A's label
        config = _path_settings()
        browser["instant"] = {"a": me.picks[0], "steps": config.steps, "method": config.method,
                              "thumb": _thumb(config.steps)}
        blobs.append(live_decode.latents_blob(checkpoint, selection.split, latents))
    wanted = live_decode.map_view(map_key(), browser, [decoder if ("basis" in browser or "instant" in browser)
                                                              else None, *blobs])
    if wanted and sorted(wanted) != state.rows_in_view:
        state.rows_in_view = sorted(wanted)
        st.rerun()  # with their images
    if identity_2d and decoder is not None:
        hover_slot.caption("Move the cursor over the map: the image decoded there follows it, between the clusters too"
                   + (f" (as the label {plain(names[0])})." if names else "."))


def _path_settings() -> PathConfig:
    """The path's settings as its widgets hold them, before (or without) drawing them."""
    default = PathConfig()
    return PathConfig(**{name: session.widget_value(setting_key(PathConfig, name), getattr(default, name))
                         for name in ("steps", "method")})


def _thumb(steps: int) -> int:
    """Pixels a side of each image of the strip: A, the steps and B on one row."""
    return int(np.clip(STRIP_WIDTH / (steps + 2) - STRIP_GAP, 28, 72))


def _map_captions(selection: Selection, latents: Latents, method: str, marks: str, factor: Factor | None,
                  colour: tuple | None) -> None:
    what = {"test": "test images", "train": "training images", "all": "images (the whole data set)"}[selection.split]
    st.caption(f"{len(latents.index):,} {what}, latent {'means' if latents.logvar is not None else 'codes'}, by "
               f"{METHODS[method].label}: each point is where the encoder puts one image. Click a point to "
               "pick it; click a second for the path between them. Draw a box or lasso (the map's toolbar) around "
               "points to make a group of them; saved groups stay ringed (the tick boxes at the map's lower left "
               "show or hide each).",
               help=define("latent space", "μ", "posterior"))
    if factor is not None:
        st.caption(f"Coloured by {plain(factor.name)}, a factor the data set was made from, not read from the "
                   "model: " + ("the legend's levels can be shown or hidden." if factor.categorical else
                                "from the 1st to the 99th percentile of its values."))
    elif colour is not None:
        st.caption(f"Coloured by {colour[1]}, from the 1st to the 99th percentile: the lowest log p(x) are the "
                   "images the model finds least typical (the Likelihood page shows them).")
    if marks != "points":
        sigma = np.exp(0.5 * latents.logvar)
        st.caption(f"±1σ bubbles of {min(ELLIPSE_SAMPLE, len(latents.mu))} of them (σ averages {sigma.mean():.3f}; "
                   f"the prior's is 1), and the prior's circles; 90% of the means lie within "
                   f"{spread(latents.mu):.2f} of the origin.", help=define("σ", "prior", "KL"))
    if latents.mu.shape[1] == 2 and METHODS[method].latent_axes:
        _bubble_of_bubbles(latents)


def _exports(selection: Selection, latents: Latents) -> None:
    with st.expander("Export"):
        model = selection.file_stem
        stem = f"{model}-{selection.split}"
        cols = st.columns(3)
        csv_text, projector = resources.exports(selection.checkpoint, selection.dataset, selection.split, latents)
        cols[0].download_button("Latent means and labels (CSV)", csv_text,
                                file_name=f"{stem}-latents.csv", mime="text/csv", key="export_csv")
        cols[1].download_button("For the Embedding Projector (zip)", projector,
                                file_name=f"{stem}-projector.zip", mime="application/zip", key="export_projector",
                                help="vectors.tsv and metadata.tsv: load both at projector.tensorflow.org.")
        cols[2].download_button("This model (.safetensors)", lambda: selection.checkpoint.payload, on_click="ignore",
                                file_name=f"{model}.safetensors",
                                mime="application/octet-stream", key="export_checkpoint")
