"""Lesson f: how a VAE flags an input unlike its training data: log p(x) (the IWAE bound) of a few unusual images
against the data's own scores. Noise and an inverted digit score far below every test digit; a blank image scores
above them all, which is why a flag needs an upper end too."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from explorer.config import FlagConfig
from explorer.numbers import ordinal, written
from explorer.scoring import ImageScores, outside, percentile_of, score_array


def _letter(text: str, size: int) -> np.ndarray:
    """A letter drawn white on black, centred, strokes about as thick as a digit's: Pillow's own font (no file)."""
    picture = Image.new("L", (size, size), 0)
    font = ImageFont.load_default(size=round(size * 0.75))
    ImageDraw.Draw(picture).text((size / 2, size / 2), text, fill=255, font=font, anchor="mm", stroke_width=1,
                                 stroke_fill=255)
    return np.asarray(picture)


def unusual_images(digit: np.ndarray, seed: int = 0) -> tuple[tuple[str, ...], np.ndarray]:
    """Names and (N, 1, H, W) uint8 images: noise, an inverted digit (the given one, (1, H, W) uint8), a blank
    image and a letter, in the digits' size."""
    _, h, w = digit.shape
    noise = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    images = [noise, 255 - digit[0], np.zeros((h, w), np.uint8), _letter("A", h)]
    return ("noise", "an inverted digit", "a blank image", "the letter A"), np.stack(images)[:, None]


class Verdicts(NamedTuple):
    names: tuple[str, ...]
    images: np.ndarray  # (N, 1, H, W) uint8
    log_px: np.ndarray  # (N,) nats
    percentile: np.ndarray  # (N,) among the data's scores
    data: np.ndarray  # (M,) the data's own log p(x)

    @property
    def flagged(self) -> np.ndarray:
        """(N,) outside the Likelihood page's default band of the data's percentiles."""
        band = FlagConfig()
        return outside(self.percentile, band.low, band.high)


def verdicts(model, digit: np.ndarray, data: ImageScores) -> Verdicts:
    names, images = unusual_images(digit)
    scores = score_array(model, images, k=data.k, seed=0)
    return Verdicts(names, images, scores.log_px, percentile_of(data.log_px, scores.log_px), data.log_px)


def verdict(v: Verdicts, i: int) -> str:
    """One image's place against the data: 'below every test digit, by 1,234 nats' and the like."""
    low, high = v.data.min(), v.data.max()
    if v.log_px[i] < low:
        return f"below every test digit (the lowest, {written(low)}), by {written(low - v.log_px[i])} nats"
    if v.log_px[i] > high:
        return f"above every test digit (the highest, {written(high)}), by {written(v.log_px[i] - high)} nats"
    return f"at the {ordinal(max(1, round(v.percentile[i])))} percentile of the test digits"


def caption(v: Verdicts) -> str:
    lines = "; ".join(f"{name}: {written(v.log_px[i])} nats, {verdict(v, i)}" for i, name in enumerate(v.names))
    band = FlagConfig()
    return (f"The test digits' log p(x) (histogram) and the unusual images' (marks). {lines}. Outside the band from "
            f"the {ordinal(round(band.low))} to the {band.high:g}th percentile (the Likelihood page's default), "
            f"{int(v.flagged.sum())} of {len(v.names)} are flagged.")


def caveat(v: Verdicts) -> str | None:
    """The blank-image caveat, stated only when the figure shows it: a plain image scoring above the data."""
    above = [name for i, name in enumerate(v.names) if v.log_px[i] > v.data.max()]
    if not above:
        return None
    return (f"Careful: {' and '.join(above)} score{'s' if len(above) == 1 else ''} higher than every test digit. "
            "A likelihood rewards images that are easy to predict pixel by pixel, and a plain image is the easiest, "
            "so a high log p(x) does not mean 'like the data'. Flag images outside a band of the data's scores, "
            "not only below it.")
