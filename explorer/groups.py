"""Groups of images and arithmetic on their latent means.

A group is a set of data rows: a box or lasso on the map, or every image of a label. Its mean latent stands for
what its images share, so the difference of two groups' means is an attribute vector ("glasses" = mean with -
mean without), and A - B + C moves C by what tells A from B. What is kept and linked is a group's definition
(its rows, or its label); the numbers are computed again from the model in use.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from explorer.attributes import quarters_within
from explorer.latent import Latents
from explorer.neighbours import nearest

STRENGTHS = tuple(np.round(np.linspace(-2.0, 2.0, 9), 2))  # the strip of an attribute vector, -2 to +2
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,29}")  # a group's name: fits in a link, never markup
_RUN = re.compile(r"(\d{1,7})(?:-(\d{1,7}))?")
MAX_GROUP_ROWS = 100_000  # more rows than any data set here holds: a link asking for more is refused unread
MAX_GROUPS = 20  # per data set and visitor: each is drawn (mean image, label mix) on every run of the Vectors page
PICKS = ("A", "B")
LEVEL = "level"  # a known factor's named level: 'level:bold' is every bold glyph
NOT_LEVEL = "not"  # ... and every image without it: 'not:heart' is every square and ellipse
ATTRIBUTE_KINDS = ("most", "least")  # ready-made groups: the quarter with the most of a measured attribute, the least


@dataclass(frozen=True)
class Group:
    """A named set of data rows (sorted, unique) of one data set."""

    name: str
    rows: tuple[int, ...]


class Summary(NamedTuple):
    size: int  # rows of the group in the split shown
    mean_image: np.ndarray  # (C, H, W) in [0, 1]: the average of its images
    label_counts: np.ndarray | None  # (K,) images per label, or None for unlabelled data


def check_name(name: str) -> str:
    """A group's name as typed, stripped; a ValueError says what a name may hold."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name[:40]!r} cannot name a group: use 1 to 30 letters, digits, spaces, '_', '.' or '-', "
                         "starting with a letter or digit.")
    return name


def make_group(name: str, rows) -> Group:
    rows = np.unique(np.asarray(rows, np.int64))
    if len(rows) == 0:
        raise ValueError("A group needs at least one image: select some points on the map with the box or lasso.")
    return Group(check_name(name), tuple(int(r) for r in rows))


def rows_text(rows) -> str:
    """Rows in the short form a link carries: runs, (1, 2, 3, 7) -> '1-3,7', or where shorter (a lasso's scattered
    rows), '~' and the rows' bitmask, compressed, in URL-safe base64."""
    rows = np.unique(np.asarray(rows, np.int64))
    runs = _runs(rows)
    if len(rows) == 0:
        return runs
    mask = np.zeros(int(rows[-1]) + 1, bool)
    mask[rows] = True
    packed = "~" + base64.urlsafe_b64encode(zlib.compress(np.packbits(mask).tobytes(), 9)).decode().rstrip("=")
    return packed if len(packed) < len(runs) else runs


def _runs(rows) -> str:
    rows = sorted(set(int(r) for r in rows))
    runs, start = [], None
    for i, row in enumerate(rows):
        if start is None:
            start = row
        if i + 1 == len(rows) or rows[i + 1] != row + 1:
            runs.append(str(start) if start == row else f"{start}-{row}")
            start = None
    return ",".join(runs)


def parse_rows(text: str, n_rows: int) -> tuple[int, ...]:
    """The inverse of rows_text, checked against a data set of n_rows; a ValueError for anything else."""
    if text.startswith("~"):
        return _unpack(text[1:], n_rows)
    rows: list[int] = []
    for part in text.split(","):
        match = _RUN.fullmatch(part.strip())
        if not match:
            raise ValueError(f"{part[:20]!r} is not a row or a range of rows")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if not low <= high < n_rows or len(rows) + high - low + 1 > MAX_GROUP_ROWS:
            raise ValueError(f"rows {low}-{high} are not in a data set of {n_rows} images")
        rows.extend(range(low, high + 1))
    return tuple(sorted(set(rows)))


def _unpack(text: str, n_rows: int) -> tuple[int, ...]:
    inflate = zlib.decompressobj()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        packed = inflate.decompress(raw, (n_rows + 7) // 8 + 1)  # never inflates past the data's size
    except (ValueError, zlib.error):
        raise ValueError("its rows are damaged") from None
    if not inflate.eof and not inflate.unconsumed_tail:
        raise ValueError("its rows are damaged")
    rows = np.flatnonzero(np.unpackbits(np.frombuffer(packed, np.uint8)))
    if len(rows) and rows[-1] >= n_rows:
        raise ValueError(f"its rows are not in a data set of {n_rows} images")
    return tuple(int(r) for r in rows)


def groups_text(groups: list[Group]) -> str:
    """Every group's definition for a link: 'glasses:1-3,7;smile:10-12'."""
    return ";".join(f"{g.name}:{rows_text(g.rows)}" for g in groups)


def parse_groups(text: str, n_rows: int) -> list[Group]:
    parts = text.split(";")
    if len(parts) > MAX_GROUPS:
        raise ValueError(f"it names {len(parts):,} groups, more than the {MAX_GROUPS} a visitor may keep")
    groups = []
    for part in parts:
        name, sep, rows = part.partition(":")
        if not sep:
            raise ValueError(f"{part[:30]!r} is not name:rows")
        groups.append(make_group(name, parse_rows(rows, n_rows)))
    if len({g.name for g in groups}) < len(groups):
        raise ValueError("it names a group twice")
    return groups


def ref_text(kind: str, key: object) -> str:
    """A term of the arithmetic: 'label:3', 'group:glasses' or 'pick:A'."""
    return f"{kind}:{key}"


def positions(ref: str, latents: Latents, groups: dict[str, Group], picks: list[int],
              measured: dict[str, np.ndarray] | None = None, levels: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Where a term's images sit among the split's latents (empty when none of them is in the split). measured:
    quantities of the split's images, measured from the pixels (explorer.attributes) or known (a sprite's scale),
    for the terms 'most:ink', 'least:scale' ... (the quarters within each label); levels: each known level's
    positions, for 'level:bold'."""
    sort, _, key = ref.partition(":")
    if sort == "label" and latents.labels is not None and key.isdigit():
        return np.flatnonzero(latents.labels == int(key))
    if sort in ATTRIBUTE_KINDS and measured is not None and key in measured:
        return quarters_within(measured[key], latents.labels)[ATTRIBUTE_KINDS.index(sort)]
    if sort == LEVEL and levels is not None and key in levels:
        return levels[key]
    if sort == NOT_LEVEL and levels is not None and key in levels:
        return np.setdiff1d(np.arange(len(latents.mu)), levels[key])
    if sort == "group" and key in groups:
        rows = np.asarray(groups[key].rows)
    elif sort == "pick" and key in PICKS and PICKS.index(key) < len(picks):
        rows = np.asarray([picks[PICKS.index(key)]])
    else:
        return np.zeros(0, np.int64)
    return np.searchsorted(latents.index, rows[np.isin(rows, latents.index)])  # the index is sorted


def mean_latent(latents: Latents, where: np.ndarray) -> np.ndarray:
    """The mean of the latent means at these positions; a ValueError when there are none."""
    if len(where) == 0:
        raise ValueError("none of its images is in this split")
    return latents.mu[where].mean(axis=0)


def attribute_vector(latents: Latents, with_: np.ndarray, without: np.ndarray) -> np.ndarray:
    """mean(with) - mean(without): the direction that adds what the first group has and the second lacks."""
    return mean_latent(latents, with_) - mean_latent(latents, without)


def along(z: np.ndarray, vector: np.ndarray, strengths=STRENGTHS) -> np.ndarray:
    """(S, D): z moved by each strength times the vector."""
    return z[None, :] + np.asarray(strengths, np.float32)[:, None] * vector[None, :]


def summarise(dataset, rows) -> Summary:
    """A group's size, mean image and label mix."""
    rows = np.asarray(rows, np.int64)
    mean_image = dataset.pixels(rows).mean(axis=0)
    counts = None
    if dataset.labels is not None:
        counts = np.bincount(dataset.labels[rows], minlength=dataset.num_classes)
    return Summary(len(rows), mean_image, counts)


def nearest_rows(latents: Latents, points: np.ndarray, k: int = 1) -> np.ndarray:
    """(S, k) data rows whose latent means lie nearest each point (Euclidean), nearest first."""
    return latents.index[nearest(latents, points, min(k, len(latents.mu)))[1]]
