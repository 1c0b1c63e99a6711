"""Aligned UMAP of a training run's snapshots: this project's align_snapshots(method="umap") against umap-learn's
AlignedUMAP as the app called it before, on the test means of a real run (the app's default model with a 16-D
latent, trained 30 epochs on MNIST-5k; the same 1,000 test images encoded before training and after every epoch).

    python -m bench.aligned_umap [--epochs 30] [--latent-dim 16] [--peer-snapshots 8]

AlignedUMAP takes minutes on 31 snapshots, so it maps only the newest --peer-snapshots of them (0: all of them);
ours runs on all of them and again on those, and the ratios compare the same snapshots and seconds per snapshot.
Prints seconds, drift (the mean move of a point between consecutive maps, after scaling one onto the other, over
the map's spread) and trustworthiness (sklearn, 10 neighbours). Not a test: it never fails on timing.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.manifold import trustworthiness

from explorer.alignment import align_snapshots
from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.job import SNAPSHOT_POINTS
from explorer.latent import encode_rows
from explorer.model import create_model
from explorer.train import train_steps


def training_snapshots(epochs: int, latent_dim: int) -> list[np.ndarray]:
    """Test means before training and at each epoch's end, for the rows a TrainingJob would keep."""
    data = load_dataset("mnist5k")
    rows = np.sort(np.random.default_rng(0).choice(data.test_index, SNAPSHOT_POINTS, replace=False))
    model = create_model(ModelConfig(latent_dim=latent_dim), data.image_shape, data.num_classes, seed=0)
    snapshots = [encode_rows(model, data, rows).mu]
    for metrics in train_steps(model, data, TrainConfig(epochs=epochs)):
        if metrics.epoch_end:
            snapshots.append(encode_rows(model, data, rows).mu)
    return snapshots


def peer(snapshots: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """umap-learn's AlignedUMAP, as explorer.projections called it before explorer.alignment."""
    from umap import AlignedUMAP

    same_points = [{i: i for i in range(len(snapshots[0]))} for _ in range(len(snapshots) - 1)]
    aligned = AlignedUMAP(random_state=seed).fit(snapshots, relations=same_points)
    return [np.asarray(e, np.float32) for e in aligned.embeddings_]


def timed(run, snapshots: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps = run(snapshots)
    return time.perf_counter() - started, maps


def drift(maps: list[np.ndarray]) -> np.ndarray:
    """For each consecutive pair: mean distance once the earlier map is scaled and shifted onto the later one
    (least squares), over the later map's spread (root mean square distance from its centre)."""
    out = []
    for a, b in zip(maps[:-1], maps[1:]):
        a0, b0 = a - a.mean(axis=0), b - b.mean(axis=0)
        scale = (a0 * b0).sum() / max((a0**2).sum(), 1e-12)
        out.append(np.linalg.norm(a0 * scale - b0, axis=1).mean() / np.sqrt((b0**2).sum(axis=1).mean()))
    return np.array(out)


def summary(name: str, seconds: float, mus: list[np.ndarray], maps: list[np.ndarray]) -> None:
    moves = drift(maps)
    trust = [trustworthiness(mus[i], maps[i], n_neighbors=10) for i in (0, -1)]
    print(f"{name:<22} {len(maps):>5} {seconds:>8.1f} {seconds / len(maps):>9.2f} {moves.mean():>11.3f} "
          f"{moves[-5:].mean():>11.3f} {trust[0]:>11.4f} {trust[1]:>11.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--peer-snapshots", type=int, default=8, help="newest snapshots AlignedUMAP maps; 0: all")
    args = parser.parse_args()
    started = time.perf_counter()
    mus = training_snapshots(args.epochs, args.latent_dim)
    print(f"{len(mus)} snapshots of {len(mus[0]):,} test means ({args.latent_dim}-D) from a {args.epochs}-epoch "
          f"run in {time.perf_counter() - started:.1f} s")
    n_peer = len(mus) if args.peer_snapshots <= 0 else min(args.peer_snapshots, len(mus))
    small = [m[:200] for m in mus[-3:]]
    timed(lambda s: align_snapshots(s, "umap"), small)  # numba compiles on first use: time warm runs only
    timed(peer, small)
    ours_s, ours = timed(lambda s: align_snapshots(s, "umap"), mus)
    window_s, window = (ours_s, ours) if n_peer == len(mus) else timed(lambda s: align_snapshots(s, "umap"),
                                                                        mus[-n_peer:])
    peer_s, theirs = timed(peer, mus[-n_peer:])
    print(f"{'runner':<22} {'snaps':>5} {'seconds':>8} {'s/snap':>9} {'drift mean':>11} {'drift last5':>11} "
          f"{'trust first':>11} {'trust last':>11}")
    summary("ours", ours_s, mus, ours)
    if n_peer < len(mus):
        summary(f"ours, newest {n_peer}", window_s, mus[-n_peer:], window)
    summary(f"peer, newest {n_peer}", peer_s, mus[-n_peer:], theirs)
    print(f"ours: {ours_s:.1f} s for {len(mus)} x {len(mus[0]):,} (target <= 15 s on 2 cores)")
    if n_peer < len(mus):
        print(f"peer ran on the newest {n_peer} snapshots only; at its {peer_s / n_peer:.1f} s a snapshot, "
              f"{len(mus)} would take ~{peer_s / n_peer * len(mus):.0f} s (--peer-snapshots 0 runs them all)")
    per_snapshot = (peer_s / n_peer) / (ours_s / len(mus))
    print(f"ratio peer/ours on the same {n_peer} snapshots: {peer_s / window_s:.1f}x faster; "
          f"seconds per snapshot, peer on {n_peer} / ours on {len(mus)}: {per_snapshot:.1f}x")


if __name__ == "__main__":
    main()
