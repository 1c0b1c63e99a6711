"""The Compare page: two models side by side against the prior, by default a plain autoencoder and a VAE, to show why
a VAE: where each puts the data, what its prior samples look like, the path between two images, and the region the
data occupies decoded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from explorer.checkpoint import Checkpoint, known_checkpoints
from explorer.compare import COVERAGE_DRAWS, Plane, PriorFit, plane_for, region, region_grid
from explorer.data import ImageDataset
from explorer.disentanglement import Mig
from explorer.evaluation import Evaluation
from explorer.glossary import define
from explorer.imaging import enlarge, tile, to_uint8
from explorer.latent import Latents, decode_latents, interpolate, prior_samples, slider_reach
from explorer.neighbours import nearest_distance, neighbour_spacing
from explorer.numbers import article, share
from explorer.traversal import moved_factors
from explorer.plots import add_picks, add_prior_circles, latent_map, manifold_figure
from explorer.ui import live_decode, resources, session, sidebar, url
from explorer.ui.markup import plain

# The lesson: an autoencoder beside a VAE trained the same way. The 16-D pair is the default because it shows it at a
# glance: in 2-D the autoencoder's decoder bends smoothly across its gaps, so its prior samples are blends of the few
# digits crowded at the origin rather than noise; in 16-D they are noise.
PAIRS = {  # key -> (button, the two models): the same data, network, epochs and seed, one setting apart
    "16-D": ("Autoencoder vs VAE, 16-D", ("mnist5k-ae-z16", "mnist5k-z16")),
    "2-D": ("Autoencoder vs VAE, 2-D", ("mnist5k-ae-z2", "mnist5k-z2")),
    "beta": ("β 1 vs β 8 on sprites", ("sprites-z10", "sprites-z10-beta8")),
    "iwae": ("VAE vs IWAE, 16-D", ("mnist5k-z16", "mnist5k-iwae-z16")),
}
DEFAULTS = PAIRS["16-D"][1]
SPLIT = "test"
PRIOR_SAMPLES = 36
PATH_STEPS = 9
GRID_SIZE = 15
SAMPLE_SEED = 0  # both models decode the same prior draws (when their latents have the same size)
MEASURES_HELP = ("**prior covered by the data**: the share of prior samples with an encoded image nearby. **data "
                 "inside the prior's 99% ball**: the share of encoded images where prior samples land. **gap from the "
                 "prior**: the KL of a Gaussian fitted to the codes from N(0, I). **labels off the data's mix**: how "
                 "unlike the data's label mix the labels of the images nearest prior samples are.")


class Side(NamedTuple):
    """One model of the two, with what the page draws for it."""

    tag: str  # "A" or "B"
    name: str
    checkpoint: Checkpoint
    latents: Latents
    plane: Plane
    points: np.ndarray  # (N, 2) the latent means on the plane
    scores: Evaluation
    fit: PriorFit


def _set_pair(pair: tuple[str, str]) -> None:
    for key, name in zip(session.COMPARE_MODELS, pair):
        session.set_widget(key, name)


def _choose_models() -> tuple[str, str]:
    names = sidebar.model_names()
    pairs = {key: (label, pair) for key, (label, pair) in PAIRS.items() if set(pair) <= set(names)}
    if pairs:
        with st.container(horizontal=True):
            for key, (label, pair) in pairs.items():
                st.button(label, key=f"compare_pair_{key}", on_click=_set_pair, args=(pair,),
                          help=f"{pair[0]} beside {pair[1]}: the same data, network, epochs and seed.")
    cols = st.columns(2)
    chosen = []
    for col, key, tag, default in zip(cols, session.COMPARE_MODELS, "AB", DEFAULTS):
        default = default if default in names else names[0]
        session.offer(key, names, default, drawn=default)  # a model of this session, let go since
        chosen.append(col.selectbox(f"Model {tag}", names, index=names.index(default), key=key,
                                    persist_state="session"))
    # In the link only a server's own models, and only when not the default: a visitor's uploads never go into a URL.
    server = known_checkpoints()
    params = {key: name if name in server and name != default else None
              for key, name, default in zip(session.COMPARE_MODELS, chosen, DEFAULTS)}
    url.set_params(params)
    url.share({k: v for k, v in params.items() if v is not None}, shareable=all(n in server for n in chosen))
    return chosen[0], chosen[1]


def _data(a: Checkpoint, b: Checkpoint, names: tuple[str, str]) -> ImageDataset | None:
    """The data both are shown on: A's training data, else B's (the two share an image shape); a warning for a model
    shown on data it was not trained on."""
    problems = []
    for checkpoint, name in zip((a, b), names):
        data, problem = sidebar.dataset_for(checkpoint, trusted=name not in session.visitor().models)
        if data is not None and all(not c.model_config.conditional or c.model.num_classes == data.num_classes
                                    for c in (a, b)):
            _foreign(a, b, names, checkpoint.dataset)
            return data
        problems.append(problem or f"{checkpoint.dataset!r} has a different number of classes.")
    st.info("There is no data to compare these two models on: " + plain(" ".join(problems)))
    return None


def _foreign(a: Checkpoint, b: Checkpoint, names: tuple[str, str], shown_on: str) -> None:
    for tag, name, checkpoint in zip("AB", names, (a, b)):
        if checkpoint.dataset != shown_on:
            st.warning(f"{tag} ({plain(name)}) was trained on {plain(checkpoint.dataset)}, not {plain(shown_on)}: "
                       f"everything below shows it on {plain(shown_on)}, images it never saw, so its numbers and "
                       "pictures say how it handles foreign data. Choose two models of the same data to compare them.")


def _side(tag: str, name: str, checkpoint: Checkpoint, data: ImageDataset) -> Side:
    latents = resources.latents(checkpoint, data, SPLIT)
    plane = plane_for(latents.mu)
    scores, fit = resources.scores(checkpoint, data, SPLIT, latents)
    return Side(tag, name, checkpoint, latents, plane, plane.to_plane(latents.mu), scores, fit)


def _default_picks(latents: Latents) -> list[int]:
    """A 0 and a 1 when the data has such labels (far apart in both models), else the first two images."""
    if latents.labels is not None and {0, 1} <= set(latents.labels.tolist()):
        return [int(latents.index[np.argmax(latents.labels == label)]) for label in (0, 1)]
    return [int(r) for r in latents.index[:2]]


@dataclass
class CompareState:
    """What the Compare page keeps between runs."""

    picks: list[int] | None = None  # its two data rows (None: its default pair)
    selections: dict[str, tuple] = field(default_factory=dict)  # each map's last selection, by its key


def _picks(latents: Latents) -> list[int]:
    state = session.page_state(CompareState)
    known = set(latents.index.tolist())
    if state.picks is None or not all(r in known for r in state.picks):
        state.picks = _default_picks(latents)
    return state.picks


def _take_click(key: str, event) -> None:
    """A single clicked point on either map replaces the older of the two picks (read before the maps are drawn,
    so both show the same picks)."""
    rows = [int(p["customdata"]) for p in (event["selection"]["points"] if event else []) if "customdata" in p]
    state = session.page_state(CompareState)
    if tuple(rows) == state.selections.get(key, ()):
        return  # the chart re-sends its selection on every rerun: act on changes only
    state.selections[key] = tuple(rows)
    if len(rows) == 1 and rows[0] not in state.picks:
        state.picks = [*state.picks[-1:], rows[0]]


def _map_key(side: Side) -> str:
    return f"compare_map_{side.tag.lower()}"


def _position(latents: Latents, rows: list[int]) -> np.ndarray:
    return np.searchsorted(latents.index, rows)


def _label(checkpoint: Checkpoint) -> int | None:
    return 0 if checkpoint.model_config.conditional else None  # conditional models decode free z as label 0


def _kind(checkpoint: Checkpoint) -> str:
    return f"{sidebar.model_kind(checkpoint.model_config)}, {checkpoint.model_config.latent_dim}-D"


def _gap(mig: Mig, factor: str) -> str:
    gap = next(g for g in mig.factors if g.factor == factor)
    return f"{gap.gap:.2f}, z{gap.dimension}"


def _moved(side: Side, data: ImageDataset) -> Counter:
    """How many latent dimensions move each known factor, as the Generate page names them."""
    return moved_factors(resources.factor_names(side.checkpoint, data, SPLIT, side.latents,
                                                slider_reach(side.latents)) or [])


def _unmoved_caption(sides: list[Side], data: ImageDataset, moved: dict[str, Counter]) -> None:
    """Say which factors a model's latent dimensions leave alone, as its table rows do."""
    lines = []
    for side in sides:
        unmoved = [f.name for f in data.factors if f.name not in moved[side.tag]]
        if unmoved:
            lines.append(f"No latent dimension of {side.tag} moves {' or '.join(unmoved)} most: each moves "
                         f"{' or '.join(moved[side.tag]) or 'no known factor'} further.")
    if lines:
        st.caption(" ".join(lines) + " (Each dimension walked and read as on Generate: a factor's change counted in "
                   "multiples of the reader's noise on it.) 'Labels off the data's mix' reads the labels of the "
                   "encoded images nearest each prior sample, not the decoded samples.", help=define("reader"))


def _numbers(sides: list[Side], data: ImageDataset) -> None:
    measures = {
        "model": lambda s: f"{plain(s.name)} ({_kind(s.checkpoint)})",
        "reconstruction, nats/image": lambda s: f"{s.scores.recon:.1f}",
        "KL from the prior, nats/image": lambda s: ("none: a point, no bubble" if s.scores.kl is None
                                                    else f"{s.scores.kl:.1f}"),
        "prior covered by the data": lambda s: share(s.fit.covered),
        "data inside the prior's 99% ball": lambda s: share(s.fit.inside),
        "gap from the prior (Gaussian fit), nats": lambda s: f"{s.fit.gap_nats:.1f}",
        "prior samples' labels off the data's mix": lambda s: ("-" if s.fit.label_gap is None
                                                               else f"{s.fit.label_gap:.0%}"),
    }
    moved = {}
    if data.factors and all(s.checkpoint.model_config.latent_dim > 1 for s in sides):
        migs = {s.tag: resources.disentanglement(s.checkpoint, data, SPLIT, s.latents) for s in sides}
        measures["disentanglement (MIG), 0 to 1"] = lambda s: f"{migs[s.tag].score:.2f}"
        for factor in data.factors:
            measures[f"· {factor.name}: its gap, in"] = lambda s, f=factor.name: _gap(migs[s.tag], f)
        moved = {s.tag: _moved(s, data) for s in sides}
        measures["factors a dimension moves most (Generate)"] = lambda s: ", ".join(
            f"{name} ({count})" if count > 1 else name for name, count in moved[s.tag].most_common()) or "none"
        measures["factors no dimension moves most"] = lambda s: ", ".join(
            f.name for f in data.factors if f.name not in moved[s.tag]) or "none"
    st.table(pd.DataFrame({s.tag: [show(s) for show in measures.values()] for s in sides}, index=list(measures)))
    if moved:
        _unmoved_caption(sides, data, moved)
        st.caption("Disentanglement: for each factor the data was made from, how much more one latent dimension tells "
                   "about it than any other (the mutual information gap, as a share of what there is to know); "
                   "higher is better.", help=define("MIG"))
    st.caption("Reconstruction: lower is better. The other rows set one draw per test image from its bubble (an "
               "autoencoder's: its code) against the prior N(0, I); where the two match they read about 95%, 99%, "
               "0 and 0%.", help=MEASURES_HELP + "\n\n" + define("reconstruction", "KL", "prior"))


def _pair(title: str, caption: str, *terms: str):
    st.subheader(title)
    st.caption(caption, help=define(*terms) if terms else None)
    return st.columns(2)


def _maps(sides: list[Side], data: ImageDataset, picks: list[int]) -> None:
    inside = ", ".join(f"{share(s.fit.inside)} of {s.tag}'s" for s in sides)
    cols = _pair("Where each model puts the data",
                 f"Test images' codes (a VAE's means) with the prior's 1σ, 2σ and 3σ circles. Drawing one code per "
                 f"image from its bubble, {inside} lie inside the prior's 99% ball. Move the cursor over a map to see "
                 "what its decoder draws there; click a point to pick it for the path below.", "μ", "prior")
    for col, side in zip(cols, sides):
        fig = latent_map(side.points, side.latents.labels, data.label_names, side.latents.index, side.plane.titles,
                         height=440, uirevision=f"compare-{side.checkpoint.fingerprint[:12]}")
        add_prior_circles(fig)
        add_picks(fig, side.points[_position(side.latents, picks)])
        fig.update_layout(legend=dict(orientation="h", y=-0.3, title=None))  # under the map: half a page is narrow
        with col:
            st.markdown(f"**{side.tag}**: {plain(side.name)}")
            st.plotly_chart(fig, key=_map_key(side), on_select="rerun", selection_mode="points")
            live_decode.map_decoder(side.checkpoint, _map_key(side), side.plane.basis, _label(side.checkpoint))
            if side.latents.mu.shape[1] > 2:
                st.caption("More than 2 dimensions: the plane of the codes' two principal directions, through the "
                           "origin, so the prior's circles keep their size.")


def _prior_samples(sides: list[Side]) -> None:
    near = ", ".join(f"{share(s.fit.covered)} near one of {s.tag}'s" for s in sides)
    cols = _pair("Samples from the prior N(0, I)",
                 f"What a model generates: z drawn from N(0, I), decoded (the same draws for both). "
                 f"Of {COVERAGE_DRAWS:,} such draws, {near} encoded test images (about 95% when the codes fill the "
                 "prior).", "prior")
    for col, side in zip(cols, sides):
        z = prior_samples(PRIOR_SAMPLES, side.latents.mu.shape[1], seed=SAMPLE_SEED)
        images = to_uint8(decode_latents(side.checkpoint.model, z, _label(side.checkpoint)))
        mosaic = tile(np.stack([enlarge(im, 48) for im in images]), columns=int(np.sqrt(PRIOR_SAMPLES)))
        col.image(mosaic, caption=f"{side.tag}: {PRIOR_SAMPLES} prior samples", width="content", output_format="PNG")


def _paths(sides: list[Side], data: ImageDataset, picks: list[int]) -> None:
    named = [data.label_names[data.labels[r]] if data.labels is not None else None for r in picks]
    names = [f"image {r}" + (f" ({article(n)} {plain(n)})" if n is not None else "") for r, n in zip(picks, named)]
    lines = [interpolate(*s.latents.mu[_position(s.latents, picks)], PATH_STEPS) for s in sides]
    far = ", ".join(f"{nearest_distance(s.latents, line).max():.2f} for {s.tag} (whose test images lie a median "
                    f"{neighbour_spacing(s.latents):.2f} from their nearest neighbour)"
                    for s, line in zip(sides, lines))
    cols = _pair(f"The path from {names[0]} to {names[1]}",
                 "The same two test images, encoded by each model, and the straight line between their codes decoded. "
                 f"The farthest step from any encoded test image lies {far}.", "lerp")
    ends = to_uint8(data.pixels(picks))
    for col, side, line in zip(cols, sides, lines):
        decoded = to_uint8(decode_latents(side.checkpoint.model, line, _label(side.checkpoint)))
        frames = np.stack([enlarge(f, 40) for f in (ends[0], *decoded, ends[1])])
        col.image(tile(frames, columns=len(frames), pad=4), caption=f"{side.tag}: image A, {PATH_STEPS} decoded steps, "
                  "image B", width="stretch", output_format="PNG")


def _regions(sides: list[Side], data: ImageDataset) -> None:
    widths = ", ".join(f"{(region(s.points)[0][1] - region(s.points)[0][0]) / 6:.1f} times for {s.tag}" for s in sides)
    cols = _pair("Decoding the whole region the data occupies",
                 f"A {GRID_SIZE}x{GRID_SIZE} grid over the square the codes span, each point decoded, with the codes "
                 "drawn over it (in more than 2-D, on the plane of the map above, the other dimensions at 0). The "
                 f"square is as wide as the prior's 3σ circle {widths}.")
    for col, side in zip(cols, sides):
        x_range, y_range = region(side.points)
        grid = region_grid(x_range, y_range, GRID_SIZE)
        images = to_uint8(decode_latents(side.checkpoint.model, side.plane.from_plane(grid), _label(side.checkpoint)))
        mosaic = tile(images, columns=GRID_SIZE, pad=0)
        half = (x_range[1] - x_range[0]) / 2 / (GRID_SIZE - 1)  # image cells are centred on the grid points
        fig = manifold_figure(mosaic, (x_range[0] - half, x_range[1] + half), (y_range[0] - half, y_range[1] + half),
                              side.points, side.latents.labels, data.label_names, side.plane.titles, height=440,
                              point_opacity=0.3)
        add_prior_circles(fig, colour="rgba(255,255,255,0.85)")  # light on the decoded images' black
        fig.update_layout(legend=dict(orientation="h", y=-0.3, title=None))
        col.plotly_chart(fig, key=f"compare_region_{side.tag.lower()}")


def render() -> None:
    link = sidebar.page_start()
    if link is not None:
        for key in session.COMPARE_MODELS:
            url.restore_model(link, param=key, key=key)
    st.title("Compare two models")
    url.show_notices()
    st.caption("Two models side by side, by default a plain autoencoder and a VAE trained the same way: an autoencoder "
               "maps each image to a point, and nothing keeps the points near the prior; a VAE maps it to a small "
               "Gaussian bubble, and its KL term pulls the bubbles toward the prior N(0, I), where samples are drawn.",
               help=define("autoencoder", "VAE", "posterior", "KL"))
    names = _choose_models()
    a, b = (sidebar.model_named(name) for name in names)
    if a.image_shape != b.image_shape:
        st.error(f"These two models take different images ({a.image_shape} and {b.image_shape}, as channels, height, "
                 "width). Choose two models of the same image shape.")
        return
    data = _data(a, b, names)
    if data is None:
        return
    sides = [_side(tag, name, checkpoint, data) for tag, name, checkpoint in zip("AB", names, (a, b))]
    _picks(sides[0].latents)  # the default pair, or the last picks if this data still holds them
    for side in sides:
        key = _map_key(side)
        _take_click(key, session.widget_value(key))
    picks = session.page_state(CompareState).picks  # a click on either map replaces the older pick
    _prior_samples(sides)
    _numbers(sides, data)
    _maps(sides, data, picks)
    _regions(sides, data)
    _paths(sides, data, picks)
    if any(s.checkpoint.model_config.conditional for s in sides):
        st.caption("Conditional models decode every free z (prior samples, paths, grids) as the first label, "
                   f"{plain(data.label_names[0]) if data.label_names else '0'}.")
