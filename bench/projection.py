"""Projection latency and quality: this project's UMAP and t-SNE paths against umap-learn's and scikit-learn's
defaults, on 16-D latent means of a trained model, warm (in this process) and cold (a fresh process, JIT included).

    python -m bench.projection [--sizes 1000,5000,10000] [--cold-size 5000]

Prints seconds and trustworthiness (sklearn, 10 neighbours) for each, and peer/ours speed ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.manifold import trustworthiness

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.data import make_dataset
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset

RUNNERS = {
    "ours-umap": "from explorer.projections import project; f = lambda x: project(x, 'umap', seed=0).points",
    "ours-tsne": "from explorer.projections import project; f = lambda x: project(x, 'tsne', seed=0).points",
    "peer-umap": "import umap; f = lambda x: umap.UMAP().fit_transform(x)",
    "peer-tsne": "from sklearn.manifold import TSNE; f = lambda x: TSNE().fit_transform(x)",
}


def latent_means(n: int) -> np.ndarray:
    """16-D means from the bundled z16 model: mnist5k, then shifted and noisy copies for sizes past 5,000."""
    model = load_checkpoint(bundled_checkpoints()["mnist5k-z16"]).model
    data = load_dataset("mnist5k")
    parts, rng, copy = [encode_dataset(model, data, "all").mu], np.random.default_rng(0), 0
    while sum(len(p) for p in parts) < n:
        copy += 1
        images = (np.roll(data.pixels(slice(None)), shift=(copy % 3) - 1, axis=3)
                  + rng.normal(0, 0.05, data.images.shape))
        extra = make_dataset(f"copy{copy}", np.clip(images, 0, 1).astype(np.float32), data.labels)
        parts.append(encode_dataset(model, extra, "all").mu)
    return np.concatenate(parts)[:n].astype(np.float32)


def run(name: str, x: np.ndarray) -> tuple[float, np.ndarray]:
    namespace: dict = {}
    exec(RUNNERS[name], namespace)  # the runners above, nothing from outside
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        points = namespace["f"](x)
    return time.perf_counter() - started, np.asarray(points)


def cold(name: str, x: np.ndarray) -> float:
    """A fresh Python process: imports, numba compilation and the fit, timed from its start."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.npy"
        np.save(path, x)
        code = (f"import time; t = time.perf_counter(); import numpy as np, warnings; warnings.simplefilter('ignore'); "
                f"{RUNNERS[name]}; f(np.load({str(path)!r})); print(time.perf_counter() - t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--cold-size", type=int, default=5000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    means = latent_means(max(sizes + [args.cold_size]))
    for name in RUNNERS:  # compile once so the warm numbers are warm
        run(name, means[:300])
    print(f"{'n':>6} {'runner':<10} {'warm s':>8} {'trust@10':>9}")
    results = {}
    for n in sizes:
        x = means[:n]
        for name in RUNNERS:
            seconds, points = run(name, x)
            trust = trustworthiness(x, points, n_neighbors=10)
            results[(n, name)] = (seconds, trust)
            print(f"{n:>6} {name:<10} {seconds:>8.2f} {trust:>9.4f}")
    for n in sizes:
        for method in ("umap", "tsne"):
            (ours, t_ours), (peer, t_peer) = results[(n, f"ours-{method}")], results[(n, f"peer-{method}")]
            print(f"ratio peer/ours {method} n={n} warm: {peer / ours:.2f}x faster; "
                  f"trustworthiness ours-peer {t_ours - t_peer:+.4f}")
    x = means[: args.cold_size]
    for method in ("umap", "tsne"):
        ours, peer = cold(f"ours-{method}", x), cold(f"peer-{method}", x)
        print(f"ratio peer/ours {method} n={args.cold_size} cold (fresh process): ours {ours:.1f} s, "
              f"peer {peer:.1f} s, {peer / ours:.2f}x")
    print("targets on 2 cores: warm UMAP on 5k <= 2 s, warm t-SNE on 5k <= 10 s, trustworthiness within 0.01")


if __name__ == "__main__":
    main()
