"""The training page's live charts: Vega-Lite specs that stay the same while only their data changes."""

from __future__ import annotations

import numpy as np

from explorer.live_charts import (
    HEATMAP_CELLS, elbo_chart, epoch_chart, forces_chart, kl_heatmap_chart, kl_share_chart, loss_balance_chart,
    series_chart, snapshot_chart, thin,
)
from explorer.plots import label_colour


def _columns_agree(chart) -> int:
    lengths = {len(v) for v in chart.data.values()}
    assert len(lengths) == 1, {k: len(v) for k, v in chart.data.items()}
    return lengths.pop()


def _metrics(n: int, seed: int):
    rng = np.random.default_rng(seed)
    step = np.arange(1, n + 1)
    return step, rng.uniform(100, 200, n), rng.uniform(0, 10, n), np.minimum(1.0, step / 50), rng.uniform(0, 3, (n, 4))


def test_specs_do_not_depend_on_the_data_so_polls_only_replace_data():
    """Streamlit keeps a Vega-Lite chart mounted and swaps its data only while the spec is unchanged."""
    a, b = _metrics(30, 0), _metrics(900, 1)
    for build in (lambda s, r, k, be, d: loss_balance_chart(s, r, k, be),
                  lambda s, r, k, be, d: series_chart(s, k, "KL", "#d62728"),
                  lambda s, r, k, be, d: kl_heatmap_chart(s, d),
                  lambda s, r, k, be, d: elbo_chart(s[: len(s) // 10], r[: len(s) // 10]),
                  lambda s, r, k, be, d: kl_share_chart(s, r, k, be),
                  lambda s, r, k, be, d: epoch_chart(s[: len(s) // 10], r[: len(s) // 10], "Test reconstruction")):
        first, second = build(*a), build(*b)
        assert first.spec == second.spec
        assert _columns_agree(first) < _columns_agree(second)


def test_the_loss_stacks_reconstruction_under_beta_times_kl():
    step, recon, kl, beta, _ = _metrics(10, 0)
    chart = loss_balance_chart(step, recon, kl, beta)
    assert _columns_agree(chart) == 20
    below, above = chart.data["term"] == "reconstruction", chart.data["term"] == "β·KL"
    assert np.allclose(chart.data["nats"][below], recon) and np.allclose(chart.data["nats"][above], beta * kl)
    assert (chart.data["order"][below] < chart.data["order"][above].min()).all()
    assert chart.spec["encoding"]["y"]["stack"] == "zero"


def test_kls_share_of_the_loss_is_a_percentage_readable_when_beta_kl_is_a_sliver():
    step = np.arange(1, 5)
    recon, kl, beta = (np.array([198.0, 150.0, 100.0, 100.0]), np.array([2.0, 0.0, 25.0, 100.0]),
                       np.array([1.0, 1, 4, 0]))
    chart = kl_share_chart(step, recon, kl, beta)
    assert np.allclose(chart.data["value"], [1.0, 0.0, 50.0, 0.0])  # β·KL / (reconstruction + β·KL), in %
    assert chart.spec["title"] == "KL's share of the loss, %" and chart.spec["encoding"]["y"]["scale"] == {"zero": True}
    assert kl_share_chart(step, np.zeros(4), np.zeros(4), beta).data["value"].tolist() == [0, 0, 0, 0]  # no 0/0


def test_the_per_epoch_chart_names_what_it_shows():
    chart = epoch_chart(np.array([1, 2]), np.array([120.0, 110.0]), "Test reconstruction per epoch (lower is better)")
    assert chart.spec["title"].startswith("Test reconstruction") and chart.data["nats"].tolist() == [120.0, 110.0]
    assert elbo_chart(np.array([1]), np.array([-90.0])).spec["title"] == "Test ELBO per epoch (higher is better)"


def test_long_runs_are_thinned_and_keep_their_last_step():
    step, recon, kl, beta, per_dim = _metrics(5000, 0)
    assert len(thin(5000)) <= 601 and thin(5000)[-1] == 4999 and np.array_equal(thin(7), np.arange(7))
    chart = loss_balance_chart(step, recon, kl, beta)
    assert _columns_agree(chart) <= 2 * 601 and chart.data["step"].max() == 5000
    heat = kl_heatmap_chart(step, per_dim)
    assert _columns_agree(heat) <= HEATMAP_CELLS + 4 and heat.data["end"].max() == 5001
    assert set(heat.data["dim"]) == {"z0", "z1", "z2", "z3"}
    starts = np.unique(heat.data["start"])  # each cell reaches the next drawn step: no gaps, no overlaps
    assert np.array_equal(np.unique(heat.data["end"])[:-1], starts[1:])


def test_the_forming_map_has_square_fixed_axes_and_the_explorers_label_colours():
    points = np.array([[0, 0], [4, 1], [2, 0.5]], np.float32)
    chart = snapshot_chart(points, np.array([0, 2, 2]), ("zero", "one", "two"), (0, 4), (0, 1), ("z0", "z1"))
    x, y = (chart.spec["encoding"][a]["scale"]["domain"] for a in "xy")
    assert np.isclose(x[1] - x[0], y[1] - y[0]) and np.allclose(x, [0, 4]) and np.allclose(y, [-1.5, 2.5])
    assert list(chart.data["label"]) == ["zero", "two", "two"]
    colour = chart.spec["encoding"]["color"]["scale"]
    assert colour["domain"] == ["zero", "one", "two"] and colour["range"][2] == label_colour(2)
    unlabelled = snapshot_chart(points, None, (), (0, 4), (0, 1), ("PCA 1", "PCA 2"))
    assert set(unlabelled.data["label"]) == {"images"}


def test_the_prior_circles_are_clipped_to_the_map_and_the_small_charts_keep_their_plot_size():
    """A circle beyond the axes (an early map lies well inside 1σ) once counted in the chart's size: the plot shrank
    and its axis labels, titles and legend were cut off; the forces chart's plot was left about 40 px tall."""
    points = np.array([[0, 0], [0.05, 0.02]], np.float32)
    chart = snapshot_chart(points, None, (), (-0.1, 0.1), (-0.1, 0.1), ("z0", "z1"), prior=True)
    circles, _ = chart.spec["layer"]
    assert circles["mark"]["clip"] is True and chart.spec["autosize"] == {"type": "pad"}
    forces = forces_chart(np.arange(3), np.ones((3, 2)), "σ", 1.0, "#2ca02c", height=150)
    assert forces.spec["autosize"]["type"] == "fit-x" and forces.spec["height"] == 150
