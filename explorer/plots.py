"""Pure figure builders: arrays in, Plotly figures out."""

from __future__ import annotations

import base64
import hashlib
import html

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from explorer.config import MARKS
from explorer.imaging import png_bytes

COLOURS = qualitative.Plotly + qualitative.D3  # 20 distinct label colours, then repeat
ELLIPSE_POINTS = 24


def label_colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _shown_label(name: str) -> str:
    """A label from a user's file as Plotly text: Plotly renders a little HTML in names and hover text (<a href>
    makes a live link), so it is escaped. Quotes stay as they are: Plotly shows &quot; literally, and outside a tag
    they are harmless."""
    return html.escape(name, quote=False)


def label_groups(n: int, labels: np.ndarray | None, label_names: tuple[str, ...]):
    """(name, colour, mask) per label present among n points; a single group for unlabelled data."""
    if labels is None:
        yield "images", label_colour(0), np.ones(n, bool)
        return
    for i, name in enumerate(label_names):
        mask = labels == i
        if mask.any():
            yield _shown_label(name), label_colour(i), mask


PRIOR_RADII = (1.0, 2.0, 3.0)  # the prior N(0, I)'s 1σ, 2σ and 3σ circles: 39%, 86% and 99% of its mass in 2-D


def add_prior_circles(fig: go.Figure, centre: tuple[float, float] = (0.0, 0.0), radii=PRIOR_RADII,
                      colour: str = "rgba(90,90,90,0.8)") -> go.Figure:
    """The prior's 1σ/2σ/3σ circles (dashed) under a map in latent units; one label, in the plot's top left corner,
    so it never runs together with the circles or sits on the data where they are small beside it."""
    t = np.linspace(0, 2 * np.pi, 97)
    for r in radii:
        fig.add_trace(go.Scatter(x=centre[0] + r * np.cos(t), y=centre[1] + r * np.sin(t), mode="lines",
                                 line=dict(color=colour, width=1.4, dash="dash"), hoverinfo="skip",
                                 showlegend=False, name=f"prior {r:g}σ"))
    fig.add_annotation(x=0, y=1, xref="paper", yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
                       text=f"dashed: the prior N(0, I)'s {', '.join(f'{r:g}σ' for r in radii)}",
                       font=dict(size=10, color="rgb(90,90,90)"))
    return fig


def add_picks(fig: go.Figure, points: np.ndarray, names: str = "AB") -> go.Figure:
    """The picked points (K, 2) as labelled stars over a map."""
    fig.add_trace(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers+text", name="picks",
                             text=list(names[:len(points)]), textposition="top center",
                             textfont=dict(size=15, color="crimson"),
                             marker=dict(size=14, color="crimson", symbol="star", line=dict(color="white", width=1)),
                             hoverinfo="skip"))
    return fig


def _keep_unselected(fig: go.Figure) -> go.Figure:
    """A click selects one point, and Plotly would dim every other to a fifth: the picks are marked instead."""
    for trace in fig.data:
        if isinstance(trace, go.Scattergl) and trace.marker.opacity is not None:
            trace.unselected = dict(marker=dict(opacity=trace.marker.opacity))
    return fig


def _square_layout(fig: go.Figure, axis_titles: tuple[str, str], height: int, uirevision: str = "keep") -> go.Figure:
    fig.update_layout(
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1],
        yaxis=dict(scaleanchor="x", scaleratio=1),
        legend=dict(title="label", itemsizing="constant"),
        margin=dict(l=10, r=10, t=30, b=10),
        height=height,
        uirevision=uirevision,  # zoom and legend toggles survive reruns while this stays the same
    )
    return fig


def _rgba(colour: str, alpha: float) -> str:
    """A '#rrggbb' colour with an alpha: 'rgba(r,g,b,a)'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _bubbles(points: np.ndarray, sigma: np.ndarray, drawn: np.ndarray, name: str, colour: str) -> go.Scatter:
    """The +/-1 sigma ellipses of the `drawn` points, filled, as one trace of the label `name`."""
    t = np.linspace(0, 2 * np.pi, ELLIPSE_POINTS)
    xs = points[drawn, 0, None] + sigma[drawn, 0, None] * np.cos(t)  # (n, T)
    ys = points[drawn, 1, None] + sigma[drawn, 1, None] * np.sin(t)
    gap = np.full((len(xs), 1), np.nan)  # NaN ends one ellipse: each is filled on its own
    # SVG, not WebGL: a few hundred filled outlines draw at once, and beneath the WebGL points.
    return go.Scatter(
        x=np.hstack([xs, gap]).ravel().astype(np.float32), y=np.hstack([ys, gap]).ravel().astype(np.float32),
        mode="lines", fill="toself", fillcolor=_rgba(colour, 0.3), line=dict(color=_rgba(colour, 0.9), width=1.5),
        legendgroup=name, showlegend=False, hoverinfo="skip", name=f"{name} ±1σ",
    )


def latent_map(
    points: np.ndarray,
    labels: np.ndarray | None,
    label_names: tuple[str, ...],
    index: np.ndarray,
    axis_titles: tuple[str, str] = ("z0", "z1"),
    sigma: np.ndarray | None = None,
    height: int = 560,
    uirevision: str = "keep",
    marks: str = "both",
    values: np.ndarray | None = None,
    value_name: str = "",
) -> go.Figure:
    """WebGL scatter, one trace per label (the legend toggles classes); customdata holds the dataset row.

    With sigma (N, 2), points whose sigma is not NaN also get their posterior's +/-1 sigma ellipse
    (axis-aligned: the posterior is diagonal), filled and translucent beneath the points. marks "bubbles"
    dims the points to let the bubbles be read; they stay there, faint, to be clicked.
    With values (N,), the points are one trace coloured by them on a continuous scale (value_name on its bar).
    """
    if marks not in MARKS:
        raise ValueError(f"marks must be one of {', '.join(MARKS)}, not {marks!r}.")
    fig = go.Figure()
    faint = sigma is not None and marks == "bubbles"
    if values is not None:
        _add_valued_points(fig, points, labels, label_names, index, values, value_name, faint)
    for name, colour, mask in label_groups(len(points), labels, label_names):
        if sigma is not None:
            fig.add_trace(_bubbles(points, sigma, mask & ~np.isnan(sigma[:, 0]), name, colour))
        if values is not None:
            continue
        fig.add_trace(go.Scattergl(
            x=points[mask, 0], y=points[mask, 1], mode="markers", name=name, legendgroup=name,
            marker=dict(size=4, opacity=0.25, color=colour) if faint else dict(size=5, opacity=0.8, color=colour),
            customdata=index[mask].astype(np.int32),
            hovertemplate=f"row %{{customdata}}<br>label {name}<extra></extra>",
        ))
    if sigma is not None:
        add_prior_circles(fig)
    _keep_unselected(fig)
    _square_layout(fig, axis_titles, height, uirevision)
    return _data_revision(fig)


def _data_revision(fig: go.Figure) -> go.Figure:
    """A fingerprint of the drawn data: each rerun re-sends the figure, and without it Plotly.react takes the new
    (equal) arrays for new data and rebuilds every WebGL buffer."""
    digest = hashlib.blake2b(digest_size=8)
    for trace in fig.data:
        for array in (trace.x, trace.y, trace.customdata):
            digest.update(b"-" if array is None else np.ascontiguousarray(array).tobytes())
    return fig.update_layout(datarevision=digest.hexdigest())


def _add_valued_points(fig: go.Figure, points, labels, label_names, index, values, value_name: str, faint: bool):
    """One WebGL trace coloured by a score. The scale spans its 1st to 99th percentile: a few extreme images would
    otherwise take the whole scale and leave the rest one colour."""
    values = np.asarray(values, np.float32)
    low, high = (float(v) for v in np.quantile(values, [0.01, 0.99]))
    names = np.asarray([_shown_label(n) for n in label_names] or ["-"], dtype=object)
    label_text = names[labels] if labels is not None else np.full(len(points), "-", dtype=object)
    fig.add_trace(go.Scattergl(
        x=points[:, 0], y=points[:, 1], mode="markers", name=value_name, showlegend=False,
        marker=dict(size=5, opacity=0.3 if faint else 0.85, color=values, colorscale="Viridis", cmin=low,
                    cmax=max(high, low + 1e-6), colorbar=dict(title=dict(text=value_name, side="right"), thickness=12)),
        customdata=index.astype(np.int32),  # the row alone, as on the label-coloured map: a click reads it back
        text=label_text,
        hovertemplate="row %{customdata}<br>label %{text}<br>" + value_name + " %{marker.color:.1f}<extra></extra>",
    ))


def manifold_figure(
    mosaic: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    points: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    label_names: tuple[str, ...] = (),
    axis_titles: tuple[str, str] = ("z0", "z1"),
    height: int = 640,
    point_opacity: float = 0.7,
) -> go.Figure:
    """The decoded grid as a picture in latent coordinates, with the data's means that fall on it drawn over it."""
    fig = go.Figure()
    source = "data:image/png;base64," + base64.b64encode(png_bytes(mosaic)).decode()
    fig.add_layout_image(dict(
        source=source, xref="x", yref="y", x=x_range[0], y=y_range[1], sizex=x_range[1] - x_range[0],
        sizey=y_range[1] - y_range[0], sizing="stretch", layer="below", opacity=1.0,
    ))
    if points is not None:
        inside = ((points[:, 0] >= x_range[0]) & (points[:, 0] <= x_range[1]) & (points[:, 1] >= y_range[0])
                  & (points[:, 1] <= y_range[1]))  # WebGL markers are not clipped to the axes: off the grid, leave out
        for name, colour, mask in label_groups(len(points), labels, label_names):
            fig.add_trace(go.Scattergl(x=points[mask & inside, 0], y=points[mask & inside, 1], mode="markers",
                                       name=name,
                                       marker=dict(size=4, color=colour, opacity=point_opacity), hoverinfo="skip"))
    fig.update_xaxes(range=list(x_range), showgrid=False, zeroline=False)
    fig.update_yaxes(range=list(y_range), showgrid=False, zeroline=False)
    return _square_layout(fig, axis_titles, height)


def density_figure(xs: np.ndarray, ys: np.ndarray, density: np.ndarray, name: str,
                   axis_titles: tuple[str, str] = ("z0", "z1"), height: int = 460) -> go.Figure:
    """A density on a grid (len(ys), len(xs)) as a heatmap, under the prior's 1σ/2σ/3σ circles.

    The colours top out at the 99th percentile: a few tight clusters would otherwise take the whole scale and
    leave the rest, where the coverage of the prior is read, uniformly dark.
    """
    density = np.asarray(density, np.float32)
    fig = go.Figure(go.Heatmap(
        z=density, x=np.asarray(xs, np.float32), y=np.asarray(ys, np.float32), zmin=0.0,
        zmax=max(float(np.quantile(density, 0.99)), 1e-12), colorscale="Viridis", zsmooth="best", name=name,
        colorbar=dict(title=dict(text=name, side="right"), thickness=12),
        hovertemplate="(%{x:.2f}, %{y:.2f})<br>" + name + " %{z:.3g}<extra></extra>",
    ))
    add_prior_circles(fig, colour="rgba(255,255,255,0.85)")  # light on the heatmap's dark end
    # constrain="domain": the square plot shrinks to the grid instead of stretching an axis past it.
    fig.update_xaxes(range=[float(xs[0]), float(xs[-1])], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[float(ys[0]), float(ys[-1])], showgrid=False, zeroline=False, constrain="domain")
    return _square_layout(fig, axis_titles, height)


def sigma_bars(sigma: np.ndarray, height: int = 200) -> go.Figure:
    """One image's posterior σ per latent dimension (D,), as bars against the prior's σ = 1 (a dashed line)."""
    sigma = np.asarray(sigma, np.float32)
    names = [f"z{d}" for d in range(len(sigma))]
    fig = go.Figure(go.Bar(x=names, y=sigma, marker_color="#1f77b4", name="σ",
                           hovertemplate="%{x}: σ %{y:.3f}<extra></extra>"))
    fig.add_hline(y=1.0, line=dict(color="rgb(90,90,90)", dash="dash", width=1.5), annotation_text="prior σ = 1",
                  annotation_position="top left", annotation_font=dict(size=10, color="rgb(90,90,90)"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), showlegend=False,
                      yaxis=dict(title="σ", range=[0, max(1.15, float(sigma.max(initial=0)) * 1.1)]),
                      xaxis=dict(type="category"))
    return fig


def label_mix(counts: np.ndarray, label_names: tuple[str, ...], height: int = 160) -> go.Figure:
    """A group's images per label (K,), as bars in the labels' map colours."""
    names = [_shown_label(n) for n in label_names]
    fig = go.Figure(go.Bar(x=names, y=np.asarray(counts), marker_color=[label_colour(i) for i in range(len(names))],
                           hovertemplate="%{x}: %{y} images<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(type="category"), yaxis=dict(title="images"))
    return fig


def _stacked(shown: np.ndarray, values: np.ndarray, span: float) -> np.ndarray:
    """Heights for marks on a histogram's floor: each mark within 3% of the axis of an earlier one sits one step
    (a quarter of the tallest bar) above it, so marks clipped to the same edge do not hide each other."""
    step = 0.25 * np.histogram(values, bins=60)[0].max()
    heights = np.zeros(len(shown), np.float32)
    for i in range(len(shown)):
        heights[i] = step * int((np.abs(shown[:i] - shown[i]) < 0.03 * 1.2 * span).sum())
    return heights


def score_histogram(values: np.ndarray, name: str, band: tuple[float, float] | None = None,
                    marks: np.ndarray | None = None, flagged: np.ndarray | None = None, height: int = 300,
                    marks_name: str = "your images", mark_names: list[str] | None = None) -> go.Figure:
    """The data's scores as a histogram; band: the (low, high) scores outside which images are flagged, shaded;
    marks: other images' scores (an upload) as ticks under it, red where flagged. The axis spans the data: a mark
    far outside (noise scores thousands of nats lower) sits at the edge as an arrow, its score on hover.
    mark_names: a label written beside each mark (marks at the same edge are stacked so each stays readable)."""
    values = np.asarray(values, np.float32)
    span = float(values.max() - values.min()) or 1.0
    view = (float(values.min()) - 0.1 * span, float(values.max()) + 0.1 * span)
    fig = go.Figure(go.Histogram(x=values, nbinsx=60, marker_color="rgba(31,119,180,0.75)", name="the data",
                                 hovertemplate=f"{name} %{{x}}<br>%{{y}} images<extra></extra>"))
    if band is not None:
        for start, end in ((view[0], band[0]), (band[1], view[1])):
            if end > start:
                fig.add_vrect(x0=start, x1=end, fillcolor="rgba(214,39,40,0.08)", line_width=0, layer="below")
    if marks is not None and len(marks):
        marks = np.asarray(marks, np.float32)
        flagged = np.zeros(len(marks), bool) if flagged is None else np.asarray(flagged)
        shown = np.clip(marks, *view)
        symbols = np.where(marks < view[0], "triangle-left",
                           np.where(marks > view[1], "triangle-right", "line-ns-open"))
        heights = _stacked(shown, values, span) if mark_names else np.zeros(len(marks), np.float32)
        fig.add_trace(go.Scatter(
            x=shown, y=heights, name=marks_name,
            mode="markers+text" if mark_names else "markers", text=mark_names,
            textposition=["top right" if x < sum(view) / 2 else "top left" for x in shown],
            textfont=dict(color="#262730", size=13),
            marker=dict(symbol=list(symbols), size=16, line=dict(width=2),
                        color=["#d62728" if f else "#2ca02c" for f in flagged]),
            customdata=np.stack([np.arange(1, len(marks) + 1), marks], axis=1).astype(np.float64),
            hovertemplate=f"image %{{customdata[0]}}: {name} %{{customdata[1]:.1f}}<extra></extra>",
        ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), bargap=0.02, showlegend=marks is not None,
                      xaxis=dict(title=f"{name}, nats (higher: more typical)", range=list(view)),
                      yaxis=dict(title="images"), legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig
