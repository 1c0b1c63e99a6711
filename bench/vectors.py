"""Scoring an attribute vector (bold on the bundled glyphs model: 300 test glyphs at each of 9 strengths, both
signs, read by the glyphs' reader for the attribute and the character): explorer.vectors.scored (every strip in one
decode, each decoded batch read once) against a notebook's loop, one image's strip at a time, reading the attribute
and the character separately.

    python -m bench.vectors [--attribute bold] [--loop-images 60]

The loop is timed on --loop-images images of each sign and scaled to 300. Prints both, the ratio, and checks that
both give the same shares.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.groups import STRENGTHS, along, attribute_vector
from explorer.latent import decode_latents, encode_dataset
from explorer.reader import reader_for
from explorer.runtime import configure_threads
from explorer.vectors import SCORED_IMAGES, _sample, find_attribute, scored


def loop(model, latents, attribute, vector, reader, n: int) -> tuple[float, float]:
    """Seconds for n images of each sign, and the share moved the intended way at +2 (on those n)."""
    started = time.perf_counter()
    moved = []
    for sign, pool in ((1, attribute.without), (-1, attribute.with_)):
        for i in _sample(pool, n, seed=0):
            images = decode_latents(model, along(latents.mu[i], vector))
            measured = attribute.measure(images)  # one read for the attribute ...
            reader.read(images)["label"].argmax(axis=1)  # ... and another for the character
            if sign > 0:
                moved.append(measured[-1] > measured[len(STRENGTHS) // 2])
    return time.perf_counter() - started, float(np.mean(moved))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attribute", default="bold")
    parser.add_argument("--loop-images", type=int, default=60)
    args = parser.parse_args()
    configure_threads()
    checkpoint = load_checkpoint(bundled_checkpoints()["glyphs-z16"])
    dataset = load_dataset("glyphs")
    latents = encode_dataset(checkpoint.model, dataset, "test")
    reader = reader_for(dataset)
    scored(checkpoint.model, dataset, latents, args.attribute, reader, n=20)  # warm
    ours = []
    for _ in range(3):
        started = time.perf_counter()
        score = scored(checkpoint.model, dataset, latents, args.attribute, reader)
        ours.append(time.perf_counter() - started)
    attribute = find_attribute(dataset, latents.index, args.attribute, reader.read)
    vector = attribute_vector(latents, attribute.with_, attribute.without)
    seconds, moved = loop(checkpoint.model, latents, attribute, vector, reader, args.loop_images)
    peer = seconds * SCORED_IMAGES / args.loop_images
    print(f"{args.attribute} vector on glyphs-z16, {SCORED_IMAGES} test glyphs of each sign x "
          f"{len(STRENGTHS)} strengths:")
    print(f"  notebook loop (scaled from {args.loop_images}): {peer:.1f} s; +2 moved {moved:.0%} of its images")
    print(f"  explorer.vectors.scored, median of 3: {np.median(ours):.2f} s; +2 moved {score.at(2).moved:.0%}")
    print(f"  ratio loop / ours: {peer / np.median(ours):.1f}x")


if __name__ == "__main__":
    main()
