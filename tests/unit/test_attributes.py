"""Pixel attributes, latent neighbours and the glossary: the small pieces the lessons and the Vectors page share."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.attributes import ink, quarters, slant
from explorer.glossary import TERMS, define
from explorer.latent import Latents
from explorer.neighbours import nearest, nearest_distance, neighbour_spacing, read_labels
from explorer.numbers import share


def _stroke(lean: float, width: int = 1) -> np.ndarray:
    """A 28x28 vertical stroke whose x moves by `lean` pixels per pixel of height (positive: leaning right)."""
    image = np.zeros((28, 28))
    for row in range(4, 24):
        x = int(round(14 + lean * (13.5 - row)))  # rows count down, height up
        image[row, x - width // 2 : x + width - width // 2] = 1
    return image[None]


def test_slant_reads_the_lean_and_ink_the_thickness():
    upright, right, left = (slant(_stroke(lean)[None]) for lean in (0.0, 0.5, -0.5))
    assert (abs(upright[0]) < 1e-9 and right[0] == pytest.approx(0.5, abs=0.05)
            and left[0] == pytest.approx(-0.5, abs=0.05))
    thin, thick = ink(np.stack([_stroke(0, 1), _stroke(0, 3)]))
    assert thick == pytest.approx(3 * thin)
    assert ink(np.zeros((1, 1, 8, 8)))[0] == 0 and slant(np.zeros((1, 1, 8, 8)))[0] == 0  # blank: no division by 0


def test_quarters_are_the_most_and_least():
    most, least = quarters(np.arange(100.0))
    assert most.tolist() == list(range(75, 100)) and least.tolist() == list(range(0, 25))


def test_neighbours_distances_spacing_and_labels():
    latents = Latents(np.array([[0.0, 0], [1, 0], [10, 0], [11, 0], [12, 0]], np.float32), None,
                      np.array([0, 0, 1, 1, 1]), np.arange(5))
    assert nearest_distance(latents, np.array([[0.4, 0], [10, 3]])) == pytest.approx([0.4, 3])
    assert nearest(latents, np.array([[11.2, 0]]), k=2)[1].tolist() == [[3, 4]]
    assert neighbour_spacing(latents) == 1.0
    assert read_labels(latents, np.array([[0.5, 0], [9, 0]]), k=3).tolist() == [0, 1]


def test_every_term_is_defined_once_in_plain_sentences():
    assert {"KL", "nats", "ELBO", "log p(x)", "IWAE bound", "posterior", "prior", "σ", "β", "lerp", "slerp",
            "active dimension"} <= set(TERMS)
    assert all(text.endswith(".") and len(text) < 400 for text in TERMS.values())
    assert define("KL", "β") == f"**KL**: {TERMS['KL']}\n\n**β**: {TERMS['β']}"
    with pytest.raises(KeyError):
        define("not a term")


def test_shares_never_round_something_to_nothing_or_all():
    assert [share(v) for v in (0, 0.004, 0.5, 0.991, 0.9996, 1)] == ["0%", "0.4%", "50%", "99.1%", "99.9%", "100%"]
