"""Data whose factors are known: the glyphs and sprites generators, the pixel measures, and the MIG."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import glyphs, sprites
from explorer.attributes import height, width
from explorer.data import Factor, make_dataset
from explorer.datafiles import load_dataset
from explorer.disentanglement import mig


def test_the_bundled_glyphs_are_what_the_script_draws():
    dataset = load_dataset("glyphs")
    assert dataset.images.shape == (62 * 16 * glyphs.COPIES, 1, glyphs.SIDE, glyphs.SIDE)
    assert dataset.label_names == tuple(glyphs.CHARACTERS)
    assert [f.name for f in dataset.factors] == list(glyphs.TRAITS)
    # Redraw two fonts' worth with the script's seed: the same jitter stream gives the same first rows.
    fonts = glyphs.FONTS[:2]
    redrawn = glyphs.render(seed=0, copies=glyphs.COPIES, fonts=fonts)
    rows = len(redrawn["images"])
    assert np.array_equal(redrawn["images"], dataset.images[:rows, 0])
    assert np.array_equal(redrawn["labels"], dataset.labels[:rows])
    bold = dataset.factor("bold")
    assert bold.levels == ("regular", "bold") and bold.values[:rows].tolist() == [0] * (rows // 2) + [1] * (rows // 2)


def test_glyph_traits_follow_the_fonts():
    by_file = {font.file: glyphs.font_attributes(font) for font in glyphs.FONTS}
    assert by_file["DejaVuSerif-BoldItalic"] == {"bold": 1, "italic": 1, "serif": 1, "mono": 0, "family": 1}
    assert by_file["DejaVuSansMono"] == {"bold": 0, "italic": 0, "serif": 0, "mono": 1, "family": 2}
    assert by_file["STIXGeneral"]["serif"] == 1 and len(glyphs.FONTS) == 16


def test_a_bold_glyph_holds_more_ink_and_an_italic_one_leans():
    from explorer.attributes import ink, slant

    folder = glyphs.fonts_dir()
    regular, bold, italic = (glyphs.draw(folder / f"{name}.ttf", "H")[None, None] / 255.0
                             for name in ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"))
    assert ink(bold)[0] > 1.3 * ink(regular)[0]
    assert slant(italic)[0] > 0.1 > abs(slant(regular)[0])


def test_sprites_are_deterministic_from_their_seed_and_match_their_factors():
    images, factors = sprites.render(count=60, seed=3)
    again, _ = sprites.render(count=60, seed=3)
    other, _ = sprites.render(count=60, seed=4)
    assert np.array_equal(images, again) and not np.array_equal(images, other)
    assert set(factors) == set(sprites.FACTORS)
    grey = images / 255.0
    ys, xs = np.mgrid[0 : sprites.SIDE, 0 : sprites.SIDE]
    mass = grey.sum(axis=(1, 2))
    x_centre = (grey * (xs + 0.5)).sum(axis=(1, 2)) / mass / sprites.SIDE
    y_centre = 1 - (grey * (ys + 0.5)).sum(axis=(1, 2)) / mass / sprites.SIDE
    assert np.corrcoef(x_centre, factors["x"])[0, 1] > 0.98
    assert np.corrcoef(y_centre, factors["y"])[0, 1] > 0.98
    for shape in range(len(sprites.SHAPES)):  # within a shape, the ink's area grows with the scale squared
        rows = factors["shape"] == shape
        assert np.corrcoef(np.sqrt(mass[rows]), factors["scale"][rows])[0, 1] > 0.98


def test_the_sprites_data_set_carries_its_factors():
    dataset = load_dataset("sprites")
    assert len(dataset) == sprites.COUNT and dataset.image_shape == (1, sprites.SIDE, sprites.SIDE)
    assert dataset.label_names == sprites.SHAPES
    assert [f.name for f in dataset.factors] == list(sprites.FACTORS)
    assert dataset.factor("shape").categorical and not dataset.factor("rotation").categorical
    assert np.array_equal(dataset.factor("shape").values, dataset.labels)


def test_width_and_height_read_a_rectangle():
    image = np.zeros((1, 1, 28, 28))
    image[0, 0, 5:25, 10:16] = 1  # 20 rows tall, 6 columns wide
    assert width(image)[0] == pytest.approx(6) and height(image)[0] == pytest.approx(20)
    wide = np.zeros_like(image)
    wide[0, 0, 12:15, 2:26] = 1
    assert width(wide)[0] > width(image)[0] and height(wide)[0] < height(image)[0]
    assert width(np.zeros_like(image))[0] == 0 == height(np.zeros_like(image))[0]


def test_factors_are_checked_and_change_the_fingerprint():
    images = np.zeros((4, 8, 8), np.uint8)
    plain = make_dataset("x", images)
    known = make_dataset("x", images, factors=(Factor("size", np.arange(4.0)),))
    assert plain.fingerprint != known.fingerprint
    with pytest.raises(ValueError, match="one value per image"):
        make_dataset("x", images, factors=(Factor("size", np.arange(3.0)),))
    with pytest.raises(ValueError, match="level numbers"):
        make_dataset("x", images, factors=(Factor("kind", np.array([0, 1, 2, 3]), ("a", "b")),))


def test_mig_is_high_when_each_factor_has_its_own_dimension_and_low_when_mixed():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=2000), rng.uniform(size=2000)
    factors = (Factor("a", a), Factor("b", b))
    separate = np.stack([a, b, rng.normal(size=2000)], axis=1)
    mixed = np.stack([a + b, a - b, rng.normal(size=2000)], axis=1)
    clean, tangled = mig(separate, factors), mig(mixed, factors)
    assert clean.score > 0.8 > 0.2 > tangled.score
    assert [g.dimension for g in clean.factors] == [0, 1]
    with pytest.raises(ValueError, match="known factors"):
        mig(separate, ())
