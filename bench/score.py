"""Per-image scores (IWAE log p(x) at k importance samples, ELBO, reconstruction, KL) of the 1,000 mnist5k test
images on the bundled z16 model: explorer.scoring (batches of 500 images) against a per-image loop, the way a
notebook scores one image at a time.

    python -m bench.score [--k 100] [--loop-images 100]

The loop is timed on the first --loop-images images and scaled to 1,000. Prints both and the ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.objectives import iwae_log_likelihood
from explorer.runtime import configure_threads
from explorer.scoring import score_images


def per_image(model, data, rows, k: int) -> float:
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for row in rows:
            x = torch.from_numpy(data.pixels(np.array([row])))
            iwae_log_likelihood(model, x, None, k, generator)
            model(x)  # the ELBO terms
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--loop-images", type=int, default=100)
    args = parser.parse_args()
    configure_threads()
    model = load_checkpoint(bundled_checkpoints()["mnist5k-z16"]).model.eval()
    data = load_dataset("mnist5k")
    rows = data.test_index
    score_images(model, data, rows[:50], k=args.k)  # warm
    ours = []
    for _ in range(3):
        started = time.perf_counter()
        score_images(model, data, rows, k=args.k)
        ours.append(time.perf_counter() - started)
    loop = per_image(model, data, rows[: args.loop_images], args.k) * len(rows) / args.loop_images
    print(f"1,000 test images, k={args.k}, torch threads {torch.get_num_threads()}:")
    print(f"  per-image loop (scaled from {args.loop_images}): {loop:.1f} s")
    print(f"  explorer.scoring, median of 3: {np.median(ours):.2f} s (target <= 3 s)")
    print(f"  ratio loop / ours: {loop / np.median(ours):.1f}x")


if __name__ == "__main__":
    main()
