"""Glyphs: the letters and digits rendered from free fonts, each image labelled with its character and with the
font's named attributes (bold, italic, serif, mono, family): a data set whose factors are known.

The images ship ready-made (explorer/bundled/glyphs-v1.npz, written by `python -m explorer.glyphs`), so no font
file is read at run time; the fonts are the DejaVu and STIX families inside matplotlib's wheel."""

from __future__ import annotations

import argparse
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits  # 62 classes
SIDE = 32  # pixels: small enough for a CPU, large enough that serifs and stroke weight survive
COPIES = 8  # jittered copies of each (font, character): 62 x 16 x 8 = 7,936 images
SCALE_JITTER = 0.08  # font size drawn from [1 - j, 1 + j] times the base size
SHIFT_JITTER = 1.5  # position shifted up to this many output pixels each way
_OVERSAMPLE = 4  # drawn at 4x the size, then averaged down: grey, anti-aliased edges
_EM = 0.72  # the font size, as a share of the image's side: the widest glyph (W) still fits with jitter
_BASELINE = 0.72  # where the baseline sits, from the top: room above for capitals, below for descenders
BUNDLED = Path(__file__).parent / "bundled" / "glyphs-v1.npz"


@dataclass(frozen=True)
class Font:
    family: str
    file: str  # in matplotlib's mpl-data/fonts/ttf
    bold: bool
    italic: bool


FONTS = tuple(
    Font(family, file, bold, italic)
    for family, files in (
        ("DejaVu Sans", ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique")),
        ("DejaVu Serif", ("DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic")),
        ("DejaVu Sans Mono", ("DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique",
                              "DejaVuSansMono-BoldOblique")),
        ("STIX General", ("STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta")),
    )
    for (bold, italic), file in zip(((False, False), (True, False), (False, True), (True, True)), files)
)
FAMILIES = tuple(dict.fromkeys(font.family for font in FONTS))
SERIF = frozenset({"DejaVu Serif", "STIX General"})
MONO = frozenset({"DejaVu Sans Mono"})
TRAITS = {  # the font's named attributes, each glyph's factors: name -> level names
    "bold": ("regular", "bold"), "italic": ("upright", "italic"), "serif": ("sans", "serif"),
    "mono": ("proportional", "mono"), "family": FAMILIES,
}


def font_attributes(font: Font) -> dict[str, int]:
    """The named attributes one font gives each of its glyphs (0 or 1, and the family's index)."""
    return {"bold": int(font.bold), "italic": int(font.italic), "serif": int(font.family in SERIF),
            "mono": int(font.family in MONO), "family": FAMILIES.index(font.family)}


def fonts_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def draw(font_path: Path, character: str, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """One character as a (SIDE, SIDE) uint8 image, white on black: centred on its ink across, on the baseline down."""
    from PIL import Image, ImageDraw, ImageFont

    big = SIDE * _OVERSAMPLE
    font = ImageFont.truetype(str(font_path), size=round(big * _EM * scale))
    left, _, right, _ = font.getbbox(character, anchor="ls")
    x = big / 2 - (left + right) / 2 + shift[0] * _OVERSAMPLE
    y = big * _BASELINE + shift[1] * _OVERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    ImageDraw.Draw(canvas).text((x, y), character, fill=255, font=font, anchor="ls")
    pixels = np.asarray(canvas, np.float32).reshape(SIDE, _OVERSAMPLE, SIDE, _OVERSAMPLE).mean(axis=(1, 3))
    return np.rint(pixels).astype(np.uint8)


def render(seed: int = 0, copies: int = COPIES, fonts: tuple[Font, ...] = FONTS,
           characters: str = CHARACTERS) -> dict[str, np.ndarray]:
    """Every character in every font, `copies` times with seeded jitter: the arrays of the bundled file."""
    rng = np.random.default_rng(seed)
    folder = fonts_dir()
    images, labels, rows = [], [], []
    for font in fonts:
        for _label, character in enumerate(characters):
            for _ in range(copies):
                scale = 1 + rng.uniform(-SCALE_JITTER, SCALE_JITTER)
                shift = tuple(rng.uniform(-SHIFT_JITTER, SHIFT_JITTER, size=2))
                images.append(draw(folder / f"{font.file}.ttf", character, scale, shift))
                labels.append(CHARACTERS.index(character))
                rows.append(font_attributes(font))
    arrays = {"images": np.stack(images), "labels": np.asarray(labels, np.int64)}
    for name in rows[0]:
        arrays[name] = np.asarray([row[name] for row in rows], np.int64)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description="Render the glyphs data set (the bundled file's maker).")
    parser.add_argument("--out", type=Path, default=BUNDLED)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    arrays = render(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"{args.out}: {arrays['images'].shape[0]:,} glyphs of {SIDE}x{SIDE}")


if __name__ == "__main__":
    main()
