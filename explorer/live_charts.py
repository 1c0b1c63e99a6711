"""The training page's live charts, as Vega-Lite: columns of data plus a spec.

Why not Plotly, as elsewhere: Streamlit identifies a Plotly chart by a hash of its figure, so a chart whose data
changes is unmounted and drawn anew. Polled twice a second during a run, the live charts were blank much of the
time. A Vega-Lite chart keeps its place and has only its data replaced, as long as its spec stays the same: so
each spec here depends on the data's shape at most, never on its values (the forming map's fixed axes, which
change once an epoch, are the one exception).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from explorer.plots import PRIOR_RADII, label_colour

HEATMAP_CELLS = 600  # steps x dimensions drawn in the KL heatmap, at most: a light redraw twice a second


class LiveChart(NamedTuple):
    data: dict[str, np.ndarray]  # equal-length columns
    spec: dict[str, Any]  # Vega-Lite, without data


def thin(n: int, limit: int = 600) -> np.ndarray:
    """Indices of at most `limit` evenly spaced rows (always the last): live charts stay light to send."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.append(np.linspace(0, n - 1, limit).astype(int), n - 1))


# Tick labels in at most 4 significant digits ("8e+9", not "8,000,000,000,00..." cut off by the axis).
NUMBER_AXIS = {"format": ".4~g"}


def _step_axis() -> dict[str, Any]:
    # Whole steps only: one step alone otherwise reads "1.000000".
    return {"field": "step", "type": "quantitative", "title": "step", "axis": {"format": "~s", "tickMinStep": 1}}


def loss_balance_chart(step: np.ndarray, recon: np.ndarray, kl: np.ndarray, beta: np.ndarray,
                       height: int = 240) -> LiveChart:
    """Reconstruction and beta*KL stacked: the top of the pile is the loss being minimised."""
    keep = thin(len(step))
    step, recon, weighted = step[keep], recon[keep], (beta * kl)[keep]
    n = len(step)
    data = {
        "step": np.concatenate([step, step]),
        "nats": np.concatenate([recon, weighted]).astype(np.float32),
        "term": np.array(["reconstruction"] * n + ["β·KL"] * n),
        "order": np.repeat(np.array([0, 1]), n),  # reconstruction at the bottom of the stack
    }
    spec = {
        "title": "loss = reconstruction + β·KL",
        "height": height,
        "mark": {"type": "area", "line": True, "opacity": 0.75},
        "encoding": {
            "x": _step_axis(),
            "y": {"field": "nats", "type": "quantitative", "stack": "zero", "title": "nats per image",
                  "axis": NUMBER_AXIS},
            # The legend stays on the right: placed at the bottom, it squashed the plot to a sliver.
            "color": {"field": "term", "type": "nominal", "title": None,
                      "scale": {"domain": ["reconstruction", "β·KL"], "range": ["#1f77b4", "#ff7f0e"]}},
            "order": {"field": "order", "type": "quantitative"},
            "tooltip": [{"field": "step", "type": "quantitative"}, {"field": "term", "type": "nominal"},
                        {"field": "nats", "type": "quantitative", "format": ".2f"}],
        },
    }
    return LiveChart(data, spec)


def series_chart(step: np.ndarray, values: np.ndarray, title: str, colour: str, height: int = 240) -> LiveChart:
    """One quantity over the steps (the raw KL, beta)."""
    keep = thin(len(step))
    spec = {
        "title": title,
        "height": height,
        "mark": {"type": "line", "color": colour},
        "encoding": {
            "x": _step_axis(),
            "y": {"field": "value", "type": "quantitative", "title": None, "axis": NUMBER_AXIS},
            "tooltip": [{"field": "step", "type": "quantitative"},
                        {"field": "value", "type": "quantitative", "format": ".3f"}],
        },
    }
    return LiveChart({"step": step[keep], "value": np.asarray(values, np.float32)[keep]}, spec)


def kl_heatmap_chart(step: np.ndarray, kl_per_dim: np.ndarray, height: int = 240) -> LiveChart:
    """KL of each latent dimension (rows) over the steps: which dimensions the model uses, and from when."""
    dims = kl_per_dim.shape[1]
    keep = thin(len(step), max(20, HEATMAP_CELLS // dims))
    start = step[keep]
    end = np.append(start[1:], start[-1] + 1)  # each kept step's cell reaches the next one
    data = {
        "start": np.repeat(start, dims),
        "end": np.repeat(end, dims),
        "dim": np.tile(np.array([f"z{d}" for d in range(dims)]), len(start)),
        "d": np.tile(np.arange(dims), len(start)),
        "nats": kl_per_dim[keep].astype(np.float32).ravel(),
    }
    spec = {
        "title": "KL per latent dimension",
        "height": height,
        "mark": "rect",
        "encoding": {
            "x": {"field": "start", "type": "quantitative", "title": "step", "scale": {"nice": False}},
            "x2": {"field": "end"},
            "y": {"field": "dim", "type": "nominal", "title": None, "sort": {"field": "d", "op": "min"}},
            "color": {"field": "nats", "type": "quantitative", "title": "nats", "scale": {"scheme": "viridis"},
                      "legend": {"format": NUMBER_AXIS["format"]}},
            "tooltip": [{"field": "start", "type": "quantitative", "title": "step"},
                        {"field": "dim", "type": "nominal"},
                        {"field": "nats", "type": "quantitative", "format": ".2f"}],
        },
    }
    return LiveChart(data, spec)


def kl_share_chart(step: np.ndarray, recon: np.ndarray, kl: np.ndarray, beta: np.ndarray,
                   height: int = 240) -> LiveChart:
    """β·KL as a percentage of reconstruction + β·KL: the balance of the two terms, readable when β·KL is a sliver
    of the stacked loss."""
    weighted = beta * kl
    share = 100 * weighted / np.maximum(recon + weighted, 1e-12)
    chart = series_chart(step, share, "KL's share of the loss, %", "#ff7f0e", height)
    chart.spec["encoding"]["y"]["scale"] = {"zero": True}
    chart.spec["encoding"]["tooltip"][1]["format"] = ".2f"
    return chart


def epoch_chart(epoch: np.ndarray, values: np.ndarray, title: str, height: int = 240) -> LiveChart:
    """One test score per epoch end (the ELBO, or an autoencoder's reconstruction)."""
    spec = {
        "title": title,
        "height": height,
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch", "axis": {"tickMinStep": 1}},
            "y": {"field": "nats", "type": "quantitative", "title": "nats per image", "scale": {"zero": False},
                  "axis": NUMBER_AXIS},
            "tooltip": [{"field": "epoch", "type": "quantitative"},
                        {"field": "nats", "type": "quantitative", "format": ".2f"}],
        },
    }
    return LiveChart({"epoch": np.asarray(epoch), "nats": np.asarray(values, np.float32)}, spec)


def forces_chart(epochs: np.ndarray, per_dim: np.ndarray, title: str, reference: float, colour: str,
                 height: int = 240) -> LiveChart:
    """A quantity per latent dimension (E, D) over the epochs, thin and grey, with its average over the dimensions
    bold, against the value the KL term pulls it to (a dashed rule): |μ| toward 0, σ toward 1."""
    per_dim = np.asarray(per_dim, np.float32)
    e, d = per_dim.shape
    data = {
        "epoch": np.concatenate([np.repeat(epochs, d), epochs]).astype(np.int32),
        "dim": np.concatenate([np.tile(np.array([f"z{i}" for i in range(d)]), e), np.full(e, "average")]),
        "value": np.concatenate([per_dim.ravel(), per_dim.mean(axis=1)]),
    }
    x = {"field": "epoch", "type": "quantitative", "title": "epoch", "axis": {"tickMinStep": 1}}
    y = {"field": "value", "type": "quantitative", "title": None, "axis": NUMBER_AXIS}
    tooltip = [{"field": "epoch", "type": "quantitative"}, {"field": "dim", "type": "nominal"},
               {"field": "value", "type": "quantitative", "format": ".3f"}]
    spec = {
        "title": title,
        "height": height,
        # As wide as its column, the plot `height` tall with its title and axes added (fitted, ~40 px were left).
        "autosize": {"type": "fit-x", "contains": "padding"},
        "layer": [
            {"transform": [{"filter": "datum.dim != 'average'"}], "mark": {"type": "line", "color": "#c7c7c7"},
             "encoding": {"x": x, "y": y, "detail": {"field": "dim"}, "tooltip": tooltip}},
            {"transform": [{"filter": "datum.dim == 'average'"}],
             "mark": {"type": "line", "color": colour, "strokeWidth": 3, "point": True},
             "encoding": {"x": x, "y": y, "tooltip": tooltip}},
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#5a5a5a"},
             "encoding": {"y": {"datum": reference}}},
        ],
    }
    return LiveChart(data, spec)


def elbo_chart(epoch: np.ndarray, test_elbo: np.ndarray, height: int = 240) -> LiveChart:
    return epoch_chart(epoch, test_elbo, "Test ELBO per epoch (higher is better)", height)


def _square(x_range: tuple[float, float], y_range: tuple[float, float]) -> tuple[list[float], list[float]]:
    """Both ranges widened about their centres to the larger span: one unit is as long across as up, on a square."""
    half = max(x_range[1] - x_range[0], y_range[1] - y_range[0]) / 2
    return [[(lo + hi) / 2 - half, (lo + hi) / 2 + half] for lo, hi in (x_range, y_range)]


def snapshot_chart(points: np.ndarray, labels: np.ndarray | None, label_names: tuple[str, ...],
                   x_range: tuple[float, float], y_range: tuple[float, float], axis_titles: tuple[str, str],
                   size: int = 420, prior: bool = False) -> LiveChart:
    """One epoch's latent map on square axes fixed across epochs, so the clusters visibly form rather than jump;
    prior: with the prior's 1σ, 2σ and 3σ circles (for a map in latent units)."""
    names = list(label_names) if labels is not None else ["images"]
    label = np.array(names, dtype=object)[labels] if labels is not None else np.full(len(points), "images")
    x_domain, y_domain = _square(x_range, y_range)
    spec = {
        "width": size,
        "height": size,
        "autosize": {"type": "pad"},  # the plot `size` square, its axes and legend added
        "mark": {"type": "circle", "size": 16, "opacity": 0.75},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": axis_titles[0],
                  "scale": {"domain": x_domain, "nice": False, "zero": False}},
            "y": {"field": "y", "type": "quantitative", "title": axis_titles[1],
                  "scale": {"domain": y_domain, "nice": False, "zero": False}},
            "color": {"field": "label", "type": "nominal", "title": "label",
                      "scale": {"domain": names, "range": [label_colour(i) for i in range(len(names))]}},
            "tooltip": [{"field": "label", "type": "nominal"}],
        },
    }
    data = {"x": points[:, 0].astype(np.float32), "y": points[:, 1].astype(np.float32), "label": label.astype(str)}
    if prior:
        t = np.linspace(0, 2 * np.pi, 73)
        rings = [{"x": float(r * np.cos(a)), "y": float(r * np.sin(a)), "ring": f"{r:g}σ", "i": i}
                 for r in PRIOR_RADII for i, a in enumerate(t)]
        # Clipped: a circle beyond the axes' range (an early epoch's map is far inside 1σ) would otherwise count in
        # the chart's size, shrinking the plot and cutting off its axis labels, titles and legend.
        circles = {"data": {"values": rings}, "mark": {"type": "line", "strokeDash": [4, 4], "color": "#5a5a5a",
                                                       "strokeWidth": 1, "clip": True},
                   "encoding": {"x": {"field": "x", "type": "quantitative"},
                                "y": {"field": "y", "type": "quantitative"},
                                "detail": {"field": "ring"}, "order": {"field": "i"}}}
        points_layer = {key: spec.pop(key) for key in ("mark", "encoding")}
        spec["layer"] = [circles, points_layer]
    return LiveChart(data, spec)
