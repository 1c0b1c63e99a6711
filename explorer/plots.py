"""Pure figure builders: arrays in, Plotly figures out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go


def latent_map(
    points: np.ndarray,
    labels: np.ndarray | None,
    label_names: tuple[str, ...],
    index: np.ndarray,
    axis_titles: tuple[str, str] = ("z0", "z1"),
) -> go.Figure:
    """A WebGL scatter, one trace per label (so the legend toggles classes); customdata holds the dataset row."""
    fig = go.Figure()
    groups = range(len(label_names)) if labels is not None else [None]
    for group in groups:
        mask = labels == group if group is not None else np.ones(len(points), bool)
        name = label_names[group] if group is not None else "images"
        rows = index[mask]
        fig.add_trace(
            go.Scattergl(
                x=points[mask, 0],
                y=points[mask, 1],
                mode="markers",
                name=name,
                marker=dict(size=5, opacity=0.8),
                customdata=rows,
                hovertemplate=f"row %{{customdata}}<br>label {name}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis_title=axis_titles[0],
        yaxis_title=axis_titles[1],
        yaxis=dict(scaleanchor="x", scaleratio=1),
        legend=dict(title="label", itemsizing="constant"),
        margin=dict(l=10, r=10, t=30, b=10),
        height=560,
    )
    return fig
