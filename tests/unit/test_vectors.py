"""Scored attribute vectors, and the reader that judges them and names what each latent dimension moves."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.checkpoint import load_checkpoint
from explorer.data import Factor, make_dataset
from explorer.datafiles import load_dataset
from explorer.groups import along, attribute_vector
from explorer.latent import decode_latents, encode_dataset
from explorer.reader import reader_for
from explorer.traversal import SIGNAL, dimension_factors, reading_noise
from explorer.vectors import Strip, attribute_names, best_strip, find_attribute, score_line, scored, typical
from tests.conftest import synthetic_images


def _with_factors(n=240):
    """Blobs whose class sets x; a known 'bright' level (half as bright) and a 'spread' quantity (the blob's y)."""
    images, labels = synthetic_images(n, (1, 8, 8), seed=1)
    bright = np.arange(n) % 2
    images = images * np.where(bright, 1.0, 0.4)[:, None, None, None]
    spread = images.sum(axis=(1, 2, 3))
    factors = (Factor("brightness", bright, ("dim", "bright")), Factor("spread", spread))
    return make_dataset("blobs", images, labels, factors=factors)


def test_the_reader_learns_the_label_a_level_and_a_quantity_and_is_kept_by_fingerprint():
    dataset = _with_factors()
    first = reader_for(dataset)  # trained and written to the data cache
    assert first.accuracy["label"] > 0.9 and first.accuracy["brightness"] > 0.9 and first.accuracy["spread"] > 0.5
    read = first.read(dataset.pixels(dataset.test_index))
    assert (read["brightness"].shape == (len(dataset.test_index), 2)
            and read["spread"].shape == (len(dataset.test_index),))
    reader_for.cache_clear()
    again = reader_for(dataset)  # read back from the file
    x = dataset.pixels(dataset.test_index)
    assert np.allclose(first.read(x)["spread"], again.read(x)["spread"]) and again.accuracy == first.accuracy


def test_attributes_come_from_levels_quantities_and_pixels():
    dataset = _with_factors()
    assert attribute_names(dataset) == ["dim", "bright", "spread", "ink", "slant", "width", "height"]
    rows = dataset.test_index
    bright = find_attribute(dataset, rows, "bright", read=lambda images: {})
    assert (dataset.factor("brightness").values[rows][bright.with_] == 1).all()
    assert len(bright.with_) + len(bright.without) == len(rows)
    ink = find_attribute(dataset, rows, "ink")
    assert ink.source == "pixels" and len(ink.with_) >= len(rows) // 5 and len(ink.without) >= len(rows) // 5
    with pytest.raises(ValueError, match="has no attribute 'glasses'; it has dim, bright"):
        find_attribute(dataset, rows, "glasses")


def test_an_ink_vector_on_the_digits_makes_them_inkier_at_plus_two_and_thinner_at_minus_two():
    checkpoint = load_checkpoint("checkpoints/mnist5k-z16.safetensors")
    dataset = load_dataset("mnist5k")
    latents = encode_dataset(checkpoint.model, dataset, "test")
    score = scored(checkpoint.model, dataset, latents, "ink", n=100)
    assert score.at(2).images == 100 == score.at(-2).images and score.at(0).moved == 0
    assert score.at(2).moved > 0.9 and score.at(-2).moved > 0.9
    assert score.at(2).kept is None  # no reader given: the class is not judged
    assert (score_line(score, 2, "digits", "digit").startswith("ink vector, +2: ")
            and "of 100 test digits without it measured more ink" in score_line(score, 2, "digits", "digit"))


def test_the_example_is_a_typical_image_without_the_attribute_whose_strip_keeps_its_class_and_moves_most():
    checkpoint = load_checkpoint("checkpoints/mnist5k-z16.safetensors")
    dataset = load_dataset("mnist5k")
    latents = encode_dataset(checkpoint.model, dataset, "test")
    ink = find_attribute(dataset, latents.index, "ink")
    vector = attribute_vector(latents, ink.with_, ink.without)
    candidates = typical(latents, ink.without, 8)
    distance = np.linalg.norm(latents.mu[ink.without] - latents.mu[ink.without].mean(axis=0), axis=1)
    assert set(candidates) <= set(ink.without) and np.isclose(np.linalg.norm(latents.mu[candidates[0]] - latents.mu[
        ink.without].mean(axis=0)), distance.min())
    strip = best_strip(checkpoint.model, latents, candidates, vector, ink.measure, None)  # no class: the largest change
    changes = [ink.measure(decode_latents(checkpoint.model, along(latents.mu[i], vector)))[[0, -1]] for i in candidates]
    assert strip.position in candidates and strip.row == latents.index[strip.position] and strip.images.shape[0] == 9
    assert round(float(strip.measured[-1] - strip.measured[0]), 1) == max(round(float(b - a), 1) for a, b in changes)
    assert strip.measured[-1] > strip.measured[0] and strip.kept == 0 and strip.read_as is None
    favoured = candidates[3]  # a class reader under which only this strip keeps its class at all nine strengths

    def read_class(images):  # the strips arrive candidate by candidate, nine images each
        own = np.arange(len(images)) % 9 == 4  # the others are read as their class only at strength 0
        return np.where(np.repeat(candidates, 9) == favoured, 0, own.astype(int))

    assert best_strip(checkpoint.model, latents, candidates, vector, ink.measure, read_class).position == favoured


def test_sliders_are_named_by_their_change_over_the_readers_noise_not_its_misreading_of_shape():
    """On sprites the reader's shape reading moves when only the position does: judged against that noise, the β 1
    model's position dimensions are named x (and y), and no dimension of either model is named shape."""
    dataset = load_dataset("sprites")
    reader = reader_for(dataset)
    noise = reading_noise(reader, dataset, dataset.test_index)
    assert noise["shape"] > 3 * noise["x"] > 0  # the reader is surer of a sprite's x than of its shape
    named = {}
    for name in ("sprites-z10", "sprites-z10-beta8"):
        checkpoint = load_checkpoint(f"checkpoints/{name}.safetensors")
        found = dimension_factors(checkpoint.model, encode_dataset(checkpoint.model, dataset, "test"), dataset, reader,
                                  class_noun="shape")
        assert (all(f.signal >= SIGNAL for f in found if f.factor)
                and all(f.factor is None or f.change >= 0.1 for f in found))
        named[name] = {(f.factor, f.also) for f in found}
    assert not {factor for pair in named["sprites-z10"] | named["sprites-z10-beta8"] for factor in pair} & {"shape"}
    assert ("x", "y") in named["sprites-z10"]  # a β 1 dimension moves both: the walk goes diagonally
    assert {("x", None), ("y", None), ("scale", None)} <= named["sprites-z10-beta8"]  # β 8: one factor each


def test_a_strip_rises_where_its_captions_show_a_rise():
    """The bold strip the newcomer read: 0.1, 0.3, 0.8, 3, 25, 96, 99.9, 99.9, 100% rises at 7 of its 8 steps."""
    measured = np.array([0.001, 0.003, 0.008, 0.03, 0.25, 0.96, 0.999, 0.9991, 1.0])
    assert Strip(0, 0, None, measured, None).rises == 7
