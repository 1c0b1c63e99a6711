"""Aligned snapshot maps: identity and PCA in one frame; UMAP tied across epochs, with progress and cancelling."""

from __future__ import annotations

import threading

import numba
import numpy as np
import pytest
from sklearn.decomposition import PCA

from explorer.alignment import ALIGN_METHODS, align_snapshots, common_range
from explorer.projections import project


def moving_snapshots(count: int = 6, points: int = 200, dim: int = 8) -> list[np.ndarray]:
    """Clusters forming over `count` epochs: a shrunken, noisy start that moves to the final means."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (4, dim))
    final = centres[np.arange(points) % 4] + rng.normal(0, 0.5, (points, dim))
    noise = rng.normal(0, 1, (points, dim))
    steps = np.linspace(0, 1, count)
    return [(final * t + noise * (1 - t) * 0.3).astype(np.float32) for t in steps]


@pytest.fixture(scope="module")
def snapshots():
    return moving_snapshots()


@pytest.fixture(scope="module")
def umap_maps(snapshots):
    return align_snapshots(snapshots, "umap", seed=0)


def relative_displacement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance from a to b once a is scaled and shifted onto b, over b's spread."""
    a0, b0 = a - a.mean(axis=0), b - b.mean(axis=0)
    scale = (a0 * b0).sum() / (a0**2).sum()
    return float(np.linalg.norm(a0 * scale - b0, axis=1).mean() / np.sqrt((b0**2).sum(axis=1).mean()))


def test_identity_keeps_2d_latents_and_pads_1d():
    rng = np.random.default_rng(0)
    two = [rng.normal(size=(30, 2)).astype(np.float32) for _ in range(3)]
    assert all(np.array_equal(m, s) for m, s in zip(align_snapshots(two, "identity"), two))
    one = [rng.normal(size=(30, 1)).astype(np.float32) for _ in range(2)]
    for method in ALIGN_METHODS:  # one dimension: every method spreads the points along x
        maps = align_snapshots(one, method)
        assert all(np.array_equal(m[:, 0], s[:, 0]) and not m[:, 1].any() for m, s in zip(maps, one))
    with pytest.raises(ValueError, match="needs a 2-D latent"):
        align_snapshots([np.zeros((5, 3))], "identity")
    with pytest.raises(ValueError, match="can be aligned by identity, pca, umap"):
        align_snapshots(two, "tsne")
    assert align_snapshots([], "umap") == []


def test_pca_is_one_frame_fitted_on_the_newest(snapshots):
    calls: list[float] = []
    maps = align_snapshots(snapshots, "pca", progress=calls.append)
    pca = PCA(n_components=2, random_state=0).fit(snapshots[-1])
    assert all(np.allclose(m, pca.transform(s), atol=1e-5) for m, s in zip(maps, snapshots))
    assert np.ptp(maps[0]) < np.ptp(maps[-1]) and calls == [1.0]


def test_common_range_holds_every_map(snapshots):
    maps = align_snapshots(snapshots, "pca")
    (x0, x1), (y0, y1) = common_range(maps)
    assert all(x0 < m[:, 0].min() and m[:, 0].max() < x1 and y0 < m[:, 1].min() and m[:, 1].max() < y1 for m in maps)


def test_umap_gives_one_finite_map_per_snapshot_newest_as_projected(snapshots, umap_maps):
    assert [m.shape for m in umap_maps] == [(200, 2)] * len(snapshots)
    assert all(m.dtype == np.float32 and np.isfinite(m).all() for m in umap_maps)
    assert np.array_equal(umap_maps[-1], project(snapshots[-1], "umap", seed=0).points)


def test_umap_is_reproducible(snapshots, umap_maps):
    again = align_snapshots(snapshots, "umap", seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(umap_maps, again))
    other = align_snapshots(snapshots, "umap", seed=1)
    assert not np.array_equal(umap_maps[0], other[0])


def test_umap_points_stay_put_where_their_latents_do(snapshots):
    still = [snapshots[0], snapshots[-1], snapshots[-1]]  # the last epoch changed nothing
    maps = align_snapshots(still, "umap")
    assert relative_displacement(maps[1], maps[2]) < 0.05
    assert relative_displacement(maps[0], maps[1]) > 3 * relative_displacement(maps[1], maps[2])


def test_umap_reports_progress_up_to_one(snapshots):
    calls: list[float] = []
    align_snapshots(snapshots[:4], "umap", progress=calls.append)
    assert len(calls) >= 4 and calls == sorted(calls) and calls[0] > 0 and calls[-1] == 1.0


def test_a_set_stop_returns_none(snapshots):
    stop = threading.Event()
    stop.set()
    assert align_snapshots(snapshots, "umap", stop=stop) is None
    calls: list[float] = []

    def stop_after_two(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            stop.set()

    stop.clear()
    threads = numba.get_num_threads()
    assert align_snapshots(snapshots, "umap", progress=stop_after_two, stop=stop) is None
    assert len(calls) == 2  # it stopped at the next snapshot rather than finishing
    assert numba.get_num_threads() == threads  # this thread's numba setting is restored on the way out


@pytest.mark.parametrize("case", ["first all equal", "newest all equal", "all equal", "first mostly equal",
                                  "fewer points than neighbours", "three points", "one point"])
def test_degenerate_snapshots_do_not_crash(snapshots, case):
    s = [m.copy() for m in snapshots[:3]]
    if case == "first all equal":
        s[0][:] = 0.0
    elif case == "newest all equal":
        s[-1][:] = 1.0
    elif case == "all equal":
        s = [np.ones_like(m) for m in s]
    elif case == "first mostly equal":
        s[0][1:] = s[0][0]
    else:
        s = [m[: {"fewer points than neighbours": 10, "three points": 3, "one point": 1}[case]] for m in s]
    maps = align_snapshots(s, "umap")
    assert [m.shape for m in maps] == [(len(s[0]), 2)] * 3 and all(np.isfinite(m).all() for m in maps)
    if case == "first all equal":  # one dot, not a made-up spread
        assert np.ptp(maps[0], axis=0).max() == 0
