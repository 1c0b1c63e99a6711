"""Projections: each method gives an (N, 2) map, is reproducible, and places new points where it should."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from explorer.config import ProjectionConfig
from explorer.projections import METHODS, Stopped, methods_for, project
from explorer.settings import specs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (4, 8))
    return (centres[np.arange(200) % 4] + rng.normal(0, 0.5, (200, 8))).astype(np.float32)


def test_identity_is_exact_and_only_for_2d():
    mu = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    projection = project(mu, "identity")
    assert np.array_equal(projection.points, mu) and projection.exact
    assert np.array_equal(projection.transform(mu[:3]), mu[:3])
    with pytest.raises(ValueError, match="needs a 2-D latent; this one is 3-D. Use PCA"):
        project(np.zeros((5, 3)), "identity")
    assert "identity" in methods_for(2) and "identity" not in methods_for(16)


def test_pca_transform_matches_fit(clustered):
    projection = project(clustered, "pca")
    assert projection.points.shape == (200, 2) and projection.axis_titles[0].startswith("PC1 (")
    assert np.allclose(projection.transform(clustered[:5]), projection.points[:5], atol=1e-4)


@pytest.mark.parametrize("method, params", [("umap", {"n_neighbors": 10, "min_dist": 0.2}),
                                            ("tsne", {"perplexity": 20}),
                                            ("pacmap", {"pacmap_neighbors": 10, "mn_ratio": 0.5, "fp_ratio": 2.0})])
def test_nonlinear_projections_keep_neighbourhoods_and_are_seeded(clustered, method, params):
    progress = []
    a = project(clustered, method, params, seed=3, progress=progress.append)
    b = project(clustered, method, params, seed=3)
    assert a.points.shape == (200, 2) and not a.exact
    assert np.allclose(a.points, b.points, atol=1e-4)  # same seed, same map
    assert trustworthiness(clustered, a.points, n_neighbors=10) > 0.9
    placed = a.transform(clustered[:4])  # new points land near the ones they copy
    spread = np.ptp(a.points, axis=0).max()
    assert np.linalg.norm(placed - a.points[:4], axis=1).max() < 0.2 * spread
    if method == "tsne":
        assert progress and progress[-1] == 1.0 and progress == sorted(progress)


def test_a_set_stop_ends_tsne_at_its_next_check(clustered):
    stop = threading.Event()
    reports = []

    def progress(fraction):
        reports.append(fraction)
        stop.set()  # as a Cancel pressed during the first stretch of iterations

    with pytest.raises(Stopped):
        project(clustered, "tsne", seed=0, progress=progress, stop=stop)
    assert reports == [reports[0]] and reports[0] < 0.1  # not one more stretch of iterations after the stop


def test_the_registry_declares_what_the_config_the_pages_and_the_caches_read():
    declared = specs(ProjectionConfig)
    assert declared["method"][1].choices == tuple(METHODS)
    for name, method in METHODS.items():
        assert method.name == name and set(method.parameters) <= set(declared)
        config = ProjectionConfig(method=name, seed=7)
        assert set(config.params) == set(method.parameters)  # only its own parameters key its cache
        assert config.random_seed == (7 if method.random else 0)
        assert method.reports_progress or not method.stops  # the page's Cancel is heard where progress is drawn
    assert [m for m in METHODS.values() if m.latent_axes] == [METHODS["identity"]]


def test_one_dimensional_latents_still_map():
    projection = project(np.arange(6, dtype=np.float32)[:, None], "pca")
    assert projection.points.shape == (6, 2) and np.all(projection.points[:, 1] == 0)


def test_unknown_method():
    with pytest.raises(ValueError, match="Unknown projection 'mds'; choose one of identity, pca, umap, tsne"):
        project(np.zeros((5, 3)), "mds")


CONCURRENT_UMAPS = """
import threading, numpy as np
from explorer.projections import project
data = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)
project(data[:100], "umap")  # compile first, so the runs below overlap in the parallel kernels themselves
start = threading.Barrier(4)
def run(seed):
    start.wait()
    for _ in range(3):  # unserialised, this aborted 3 times in 3 here; 2 threads x 1 run, 2 in 3
        project(data, "umap", seed=seed)
threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print("all done")
"""


def test_umaps_at_once_survive_numbas_thread_unsafe_layer():
    """Visitors (or a visitor and the warm-up) computing UMAP at once, on a host where numba has only its
    "workqueue" threading layer: unserialised, numba aborts the whole server process."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CONCURRENT_UMAPS], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "all done" in done.stdout, done.stderr[-2000:]
