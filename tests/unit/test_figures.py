"""Figure builders and image helpers: what the pages draw, checked as data."""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from explorer.imaging import enlarge, gif_bytes, png_bytes, tile, to_uint8
from explorer.plots import add_prior_circles, density_figure, latent_map, manifold_figure, sigma_bars


def test_latent_map_one_webgl_trace_per_label_with_rows_in_customdata():
    points = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.array([0, 1, 0, 2, 1, 0])
    index = np.array([10, 11, 12, 13, 14, 15])
    fig = latent_map(points, labels, ("a", "b", "c"), index)
    assert [t.name for t in fig.data] == ["a", "b", "c"] and all(t.type == "scattergl" for t in fig.data)
    assert list(fig.data[0].customdata) == [10, 12, 15]
    assert "row %{customdata}" in fig.data[0].hovertemplate and "label a" in fig.data[0].hovertemplate
    # Same arrays, same figure: the chart's identity (and so the visitor's selection) survives reruns.
    assert fig.to_json() == latent_map(points, labels, ("a", "b", "c"), index).to_json()
    # The data's fingerprint tells Plotly.react whether to rebuild its WebGL buffers: it moves with any point.
    moved = points.copy()
    moved[3, 1] += 0.5
    assert fig.layout.datarevision != latent_map(moved, labels, ("a", "b", "c"), index).layout.datarevision
    sigma = np.ones((6, 2), np.float32)
    assert (fig.layout.datarevision
            != latent_map(points, labels, ("a", "b", "c"), index, sigma=sigma).layout.datarevision)


def test_latent_map_unlabelled_and_with_ellipses():
    points = np.zeros((4, 2), np.float32)
    assert [t.name for t in latent_map(points, None, (), np.arange(4)).data] == ["images"]
    sigma = np.array([[1, 2], [np.nan, np.nan], [1, 1], [np.nan, np.nan]], np.float32)
    fig = latent_map(points, None, (), np.arange(4), sigma=sigma)
    ellipse = fig.data[0]
    assert ellipse.mode == "lines" and 1.99 < np.nanmax(np.asarray(ellipse.y)) <= 2.0  # sigma_y of the first point
    assert np.isnan(np.asarray(ellipse.x)).sum() == 2  # two drawn ellipses, each closed by a gap


def test_bubbles_are_filled_readable_shapes_under_the_points_with_the_priors_circles():
    points = np.array([[0, 0], [1, 1], [2, 0]], np.float32)
    labels, index = np.array([0, 1, 0]), np.array([5, 6, 7])
    sigma = np.full((3, 2), 0.5, np.float32)
    both = latent_map(points, labels, ("a", "b"), index, sigma=sigma, marks="both")
    bubbles = [t for t in both.data if t.name.endswith("±1σ")]
    markers = [t for t in both.data if t.mode == "markers"]
    assert len(bubbles) == 2 and all(t.fill == "toself" and t.line.width >= 1.5 for t in bubbles)
    assert all(float(t.fillcolor.split(",")[-1].rstrip(")")) >= 0.2 for t in bubbles)  # visibly filled
    assert [t.type for t in markers] == ["scattergl", "scattergl"]  # picking still reads the rows from these
    assert [list(t.customdata) for t in markers] == [[5, 7], [6]]
    assert all(both.data.index(b) < both.data.index(m) for b, m in zip(bubbles, markers))  # drawn beneath
    assert sum(t.name.startswith("prior ") for t in both.data) == 3  # the prior's 1σ, 2σ and 3σ circles
    assert all(t.marker.opacity == 0.8 for t in markers)
    faint = [t for t in latent_map(points, labels, ("a", "b"), index, sigma=sigma, marks="bubbles").data
             if t.mode == "markers"]
    assert all(t.marker.opacity <= 0.3 for t in faint) and [list(t.customdata) for t in faint] == [[5, 7], [6]]
    plain = latent_map(points, labels, ("a", "b"), index)  # no sigma: no bubbles, no circles
    assert [t.mode for t in plain.data] == ["markers", "markers"]
    with pytest.raises(ValueError, match="marks"):
        latent_map(points, labels, ("a", "b"), index, sigma=sigma, marks="circles")


def test_density_figure_draws_the_grid_under_the_priors_circles():
    xs = ys = np.linspace(-4, 4, 9)
    density = np.outer(np.exp(-ys**2 / 2), np.exp(-xs**2 / 2))
    density[4, 4] = 100.0  # one tight cluster must not take the whole colour scale
    fig = density_figure(xs, ys, density, "q(z)")
    heat = fig.data[0]
    assert heat.type == "heatmap" and np.asarray(heat.z).shape == (9, 9) and heat.name == "q(z)"
    assert heat.zmax < 100.0 and heat.zmin == 0.0
    assert [t.name for t in fig.data[1:]] == ["prior 1σ", "prior 2σ", "prior 3σ"]
    assert list(fig.layout.xaxis.range) == [-4, 4] and fig.layout.yaxis.scaleanchor == "x"


def test_sigma_bars_stand_against_the_priors_sigma_of_one():
    fig = sigma_bars(np.array([0.1, 0.4, 1.3], np.float32))
    bars = fig.data[0]
    assert bars.type == "bar" and list(bars.x) == ["z0", "z1", "z2"] and np.allclose(bars.y, [0.1, 0.4, 1.3])
    line = fig.layout.shapes[0]
    assert line.y0 == line.y1 == 1.0 and "prior σ = 1" in fig.layout.annotations[0].text
    assert fig.layout.yaxis.range[1] > 1.3  # the tallest bar and the line both show
    assert sigma_bars(np.array([0.05, 0.1])).layout.yaxis.range[1] > 1.0


def test_a_click_dims_nothing_and_manifold_figure():
    points = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    fig = latent_map(points, np.arange(500) % 2, ("a", "b"), np.arange(1000, 1500))
    assert all(t.unselected.marker.opacity == t.marker.opacity for t in fig.data)  # the picks are marked instead
    mosaic = np.zeros((30, 30), np.uint8)
    fig = manifold_figure(mosaic, (-2, 2), (-2, 2), np.zeros((3, 2)), np.array([0, 1, 1]), ("a", "b"))
    assert fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert fig.layout.images[0].sizex == 4 and len(fig.data) == 2


def test_image_helpers():
    grey = np.random.default_rng(0).random((2, 1, 4, 4)).astype(np.float32)
    as_bytes = to_uint8(grey)
    assert as_bytes.shape == (2, 4, 4) and as_bytes.dtype == np.uint8
    assert to_uint8(np.ones((3, 5, 5))).shape == (5, 5, 3)
    assert enlarge(as_bytes[0], 16).shape == (16, 16)
    mosaic = tile(as_bytes, columns=2, pad=1)
    assert mosaic.shape == (4, 9) and (mosaic[:, 4] == 255).all()
    assert Image.open(io.BytesIO(png_bytes(mosaic))).size == (9, 4)
    gif = Image.open(io.BytesIO(gif_bytes(np.stack([as_bytes[0], as_bytes[1], as_bytes[0]]))))
    assert gif.format == "GIF" and gif.n_frames == 4  # forth and back: 0, 1, 2, 1


def test_label_names_from_a_users_file_are_text_in_the_figures():
    names = ('<a href="http://host/x">log in</a>', "![x](http://host/t.png)", "<img src=x onerror=alert(1)>")
    fig = latent_map(np.zeros((3, 2), np.float32), np.array([0, 1, 2]), names, np.arange(3))
    shown = [t.name for t in fig.data] + [t.hovertemplate for t in fig.data]
    assert not any("<a" in s or "<img" in s for s in shown)
    assert fig.data[0].name == '&lt;a href="http://host/x"&gt;log in&lt;/a&gt;'  # Plotly shows the text


def test_the_manifold_draws_only_the_means_on_its_grid():
    mosaic = np.zeros((30, 30), np.uint8)
    points = np.array([[0.0, 0.0], [1.0, -1.0], [9.0, 0.0], [0.0, -9.0]], np.float32)
    fig = manifold_figure(mosaic, (-2, 2), (-2, 2), points, None, (), point_opacity=0.3)
    drawn = [t for t in fig.data if t.mode == "markers"]
    assert len(drawn) == 1 and list(drawn[0].x) == [0.0, 1.0] and drawn[0].marker.opacity == 0.3


def test_the_priors_circles_carry_one_label_that_names_all_three():
    fig = add_prior_circles(go.Figure(), colour="white")
    assert [t.name for t in fig.data] == ["prior 1σ", "prior 2σ", "prior 3σ"]
    assert [a.text for a in fig.layout.annotations] == ["dashed: the prior N(0, I)'s 1σ, 2σ, 3σ"]
    assert fig.layout.annotations[0].xref == "paper" and all(t.line.color == "white" for t in fig.data)


def test_latent_map_coloured_by_a_score_keeps_the_row_alone_in_customdata():
    points = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], np.float32)
    fig = latent_map(points, np.array([0, 1, 0, 1]), ("a", "<b>b</b>"), np.array([4, 8, 9, 11]),
                     values=np.array([-100.0, -90.0, -80.0, -500.0]), value_name="log p(x)")
    (trace,) = [t for t in fig.data if t.type == "scattergl"]
    assert list(trace.customdata) == [4, 8, 9, 11]  # a click reads the row back, as on the label map
    assert list(trace.text) == ["a", "&lt;b&gt;b&lt;/b&gt;", "a", "&lt;b&gt;b&lt;/b&gt;"]  # a label is text
    assert trace.marker.colorbar.title.text == "log p(x)" and "%{marker.color" in trace.hovertemplate
    assert trace.marker.cmin > -500  # the scale runs from the 1st percentile: one outlier does not take it


def test_score_histogram_keeps_the_data_in_view_and_puts_far_marks_at_its_edge():
    from explorer.plots import score_histogram

    data = np.linspace(-200.0, -50.0, 100)
    fig = score_histogram(data, "log p(x)", band=(-190.0, -55.0), marks=np.array([-120.0, -8000.0]),
                          flagged=np.array([False, True]))
    low, high = fig.layout.xaxis.range
    assert -230 < low < -200 and -50 < high < -30  # the data's range, not the outlier's
    (marks,) = [t for t in fig.data if t.name == "your images"]
    assert list(marks.x) == [-120.0, low] and list(marks.marker.symbol) == ["line-ns-open", "triangle-left"]
    assert list(marks.marker.color) == ["#2ca02c", "#d62728"] and marks.customdata[1][1] == -8000.0
    assert len(fig.layout.shapes) == 2  # the two flagged ends, shaded


def test_named_marks_at_the_same_edge_are_stacked_and_labelled():
    from explorer.plots import score_histogram

    data = np.linspace(-200.0, -50.0, 100)
    fig = score_histogram(data, "log p(x)", marks=np.array([-3000.0, -9000.0, -120.0]),
                          mark_names=["noise", "an inverted digit", "the letter A"])
    (marks,) = [t for t in fig.data if t.name == "your images"]
    assert marks.x[0] == marks.x[1] and marks.y[1] > marks.y[0] == 0 == marks.y[2]  # both at the left edge, apart
    assert list(marks.text) == ["noise", "an inverted digit", "the letter A"] and "text" in marks.mode


def test_prose_numbers_have_true_minus_signs():
    from explorer.numbers import signed, written

    assert written(-2849.4) == "\u22122,849" and written(17.0) == "17"
    assert [signed(v) for v in (-1.5, 0.0, 2.0)] == ["\u22121.5", "0", "+2"]
