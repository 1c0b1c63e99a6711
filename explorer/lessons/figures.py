"""The lessons' figures: arrays in, Plotly figures out (the shared builders are explorer.plots')."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.history import History
from explorer.latent import Latents
from explorer.compare import prior_radius
from explorer.lessons.autoencoder import prior_norm_density
from explorer.lessons.extremes import Forces
from explorer.plots import add_prior_circles, label_colour, label_groups, latent_map

BUBBLES = 150  # bubbles drawn per map: enough to see them pack, few enough to tell apart
BETA_COLOURS = ("#d62728", "#1f77b4", "#2ca02c")


def samples_over(fig: go.Figure, samples: np.ndarray) -> go.Figure:
    """Prior samples (n, 2) as white crosses over a density."""
    fig.add_trace(go.Scatter(x=samples[:, 0], y=samples[:, 1], mode="markers", name="prior samples",
                             marker=dict(symbol="x-thin", size=9, line=dict(width=2, color="white")),
                             hovertemplate="prior sample (%{x:.2f}, %{y:.2f})<extra></extra>", showlegend=False))
    return fig


def norms_figure(ae: np.ndarray, vae: np.ndarray, dim: int, height: int = 320) -> go.Figure:
    """Histograms of |z| (an autoencoder's codes, a VAE's draws) against the prior's density of |z|."""
    top = float(max(ae.max(), vae.max(), prior_radius(dim))) * 1.05
    bins = dict(start=0.0, end=top, size=top / 60)
    fig = go.Figure()
    for values, name, colour in ((ae, "autoencoder codes", "#ff7f0e"), (vae, "VAE draws", "#1f77b4")):
        fig.add_trace(go.Histogram(x=values.astype(np.float32), xbins=bins, histnorm="probability density", name=name,
                                   marker_color=colour, opacity=0.7))
    r = np.linspace(0, top, 300)
    fig.add_trace(go.Scatter(x=r, y=prior_norm_density(dim, r), mode="lines", name="prior N(0, I)",
                             line=dict(color="rgb(90,90,90)", width=2)))
    fig.add_vline(x=prior_radius(dim), line=dict(color="rgb(90,90,90)", dash="dash", width=1.5),
                  annotation_text="prior's 99% ball", annotation_position="top right",
                  annotation_font=dict(size=10, color="rgb(90,90,90)"))
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title=f"|z|, length of a {dim}-D code", yaxis_title="density",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def bubbles_map(latents: Latents, label_names: tuple[str, ...], height: int = 330, seed: int = 0,
                reach: float | None = None) -> go.Figure:
    """A 2-D map of the means with the ±1σ bubbles of some of them and the prior's circles; reach fixes the axes
    to ±reach (the same on every map of a series)."""
    sigma = np.full(latents.mu.shape, np.nan, np.float32)
    shown = np.random.default_rng(seed).choice(len(sigma), min(BUBBLES, len(sigma)), replace=False)
    sigma[shown] = np.exp(0.5 * latents.logvar[shown])
    fig = latent_map(latents.mu, latents.labels, label_names, latents.index, sigma=sigma, height=height, marks="both")
    fig.update_layout(showlegend=False, margin=dict(l=10, r=10, t=24, b=10))
    if reach is not None:
        fig.update_xaxes(range=[-reach, reach])
        fig.update_yaxes(range=[-reach, reach])
    return fig


def forces_figure(series: list[tuple[str, Forces]], height: int = 300) -> go.Figure:
    """Average |μ| and σ per epoch, one line per model: the KL term's spring (|μ| toward 0) and its pull on σ
    (toward 1), against reconstruction's push."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("average |μ| (KL pulls to 0)",  # short: half a narrow page
                                                        "average σ (KL pulls to 1)"))
    for (name, forces), colour in zip(series, BETA_COLOURS):
        for col, values in ((1, forces.mean_abs_mu), (2, forces.mean_sigma)):
            fig.add_trace(go.Scatter(x=forces.epochs, y=values, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=col == 1, line=dict(color=colour), marker=dict(size=4)),
                          row=1, col=col)
    fig.add_hline(y=1.0, line=dict(color="rgb(90,90,90)", dash="dash", width=1), row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)  # powers of ten only: Plotly's 2 and 5 between read as values
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def forming_animation(history: History, label_names: tuple[str, ...], reach: float, height: int = 600) -> go.Figure:
    """The means at every recorded epoch as frames with a play button, on fixed axes, over the prior's circles."""
    fig = go.Figure()
    add_prior_circles(fig)
    groups = list(label_groups(len(history.index), history.labels, label_names))
    first = len(fig.data)
    for name, colour, mask in groups:
        fig.add_trace(go.Scatter(x=history.mu[0, mask, 0], y=history.mu[0, mask, 1], mode="markers", name=name,
                                 marker=dict(size=5, color=colour, opacity=0.8), hoverinfo="skip"))
    traces = list(range(first, first + len(groups)))
    fig.frames = [go.Frame(name=str(int(epoch)), traces=traces,
                           data=[go.Scatter(x=history.mu[i, mask, 0], y=history.mu[i, mask, 1])
                                 for _, _, mask in groups])
                  for i, epoch in enumerate(history.epochs)]
    steps = [dict(label=str(int(e)), method="animate",
                  args=[[str(int(e))], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                            transition=dict(duration=0))]) for e in history.epochs]
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=110), legend=dict(title="label", itemsizing="constant"),
        xaxis=dict(range=[-reach, reach], title="z0"), yaxis=dict(range=[-reach, reach], title="z1", scaleanchor="x"),
        # the slider across the bottom, the buttons under it: side by side they overlap on a narrow page
        updatemenus=[dict(type="buttons", showactive=False, direction="left", x=0, y=-0.33, xanchor="left",
                          yanchor="top",
                          buttons=[dict(label="▶ Play", method="animate",
                                        args=[None, dict(frame=dict(duration=350, redraw=False), fromcurrent=True,
                                                         transition=dict(duration=250))]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
        sliders=[dict(active=0, x=0, len=1, y=-0.04, currentvalue=dict(prefix="epoch "), steps=steps)],
    )
    return fig


def attribute_figure(strengths: np.ndarray, measured: np.ndarray, attribute: str, height: int = 220) -> go.Figure:
    """The reader's probability of the attribute on each decoded image of the strip, against the vector's strength."""
    fig = go.Figure(go.Scatter(x=np.asarray(strengths, np.float32), y=np.asarray(measured, np.float32),
                               mode="lines+markers", line=dict(color=label_colour(0)),
                               hovertemplate="strength %{x:+.1f}: " + attribute + " %{y:.0%}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="strength",
                      yaxis=dict(title=f"P({attribute})", range=[-0.05, 1.05], tickformat=".0%"))
    return fig
