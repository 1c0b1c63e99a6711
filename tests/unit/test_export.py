"""Exports: what is written parses back to the same numbers."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.export import latents_csv, named_scores_csv, projector_tsv, projector_zip, scores_csv
from explorer.latent import Latents
from explorer.scoring import ImageScores


def sample(labels=True) -> Latents:
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    return Latents(mu, logvar, np.array([0, 1, 2, 1, 0]) if labels else None, np.array([10, 11, 12, 13, 14]))


def test_csv_round_trip():
    latents = sample()
    rows = list(csv.DictReader(io.StringIO(latents_csv(latents, ("cat", "dog", "tab\\there")))))
    assert [int(r["index"]) for r in rows] == [10, 11, 12, 13, 14]
    assert [r["label_name"] for r in rows][:2] == ["cat", "dog"]
    assert np.allclose([[float(r[f"mu_{d}"]) for d in range(3)] for r in rows], latents.mu)
    assert np.allclose([[float(r[f"logvar_{d}"]) for d in range(3)] for r in rows], latents.logvar)


def test_csv_without_labels():
    rows = list(csv.DictReader(io.StringIO(latents_csv(sample(labels=False), ()))))
    assert rows[0]["label"] == "" and rows[0]["label_name"] == ""


def test_embedding_projector_files():
    latents = sample()
    vectors, metadata = projector_tsv(latents, ("cat", "dog", "tab\there"))
    assert np.allclose(np.loadtxt(io.StringIO(vectors), delimiter="\t"), latents.mu, atol=1e-5)
    table = [line.split("\t") for line in metadata.strip().split("\n")]
    assert table[0] == ["index", "label"] and len(table) == 6  # a header row, then one row per vector
    assert table[1] == ["10", "cat"] and table[3] == ["12", "tab here"]  # a tab in a name would break the format
    with zipfile.ZipFile(io.BytesIO(projector_zip(latents, ("a", "b", "c")))) as archive:
        assert sorted(archive.namelist()) == ["metadata.tsv", "vectors.tsv"]
        assert archive.read("vectors.tsv").decode() == projector_tsv(latents, ("a", "b", "c"))[0]


def test_a_label_that_reads_as_a_formula_is_text_in_csv_and_tsv():
    latents = Latents(np.zeros((2, 2), np.float32), None, np.array([0, 1]), np.array([4, 9]))
    names = ("=HYPERLINK(\"http://e.vil\")", "plain")
    rows = list(csv.reader(io.StringIO(latents_csv(latents, names))))
    assert rows[1][2] == "'" + names[0] and rows[2][2] == "plain"
    assert projector_tsv(latents, names)[1].splitlines()[1] == f"4\t'{names[0]}"


def test_a_line_break_in_a_label_never_starts_a_row():
    """A label holding \\r or \\n (then a formula) stays one cell of one row, its breaks made spaces."""
    latents = Latents(np.zeros((3, 2), np.float32), None, np.array([0, 1, 2]), np.array([4, 9, 12]))
    names = ("x\r=cmd|' /C calc'!A0", "y\n@SUM(1+1)", "z\r\n+1")
    cleaned = ["x =cmd|' /C calc'!A0", "y @SUM(1+1)", "z +1"]
    scores = ImageScores(np.array([4, 9, 12]), np.array([0, 1, 2]), *np.zeros((4, 3)), k=5)
    for text, column in ((latents_csv(latents, names), 2), (scores_csv(scores, names), 2),
                         (named_scores_csv(names, scores), 0)):  # file names of uploads: the same care
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == 4 and [r[column] for r in rows[1:]] == cleaned
    metadata = projector_tsv(latents, names)[1].split("\n")
    assert metadata[1:4] == [f"{i}\t{name}" for i, name in zip((4, 9, 12), cleaned)] and metadata[4] == ""


FORMULA = ("=", "+", "-", "@")


@settings(max_examples=150, deadline=None)
@given(names=st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=6))
def test_every_export_keeps_generated_names_as_one_data_cell_each(names):
    """Any text as label and file names: each export parses back to one row per image, the name in its one cell,
    with no control character and no cell a spreadsheet would run."""
    n = len(names)
    latents = Latents(np.zeros((n, 2), np.float32), np.zeros((n, 2), np.float32), np.arange(n), np.arange(n) + 100)
    scores = ImageScores(np.arange(n) + 100, np.arange(n), *np.zeros((4, n)), k=5)
    tables = [(latents_csv(latents, tuple(names)), 2), (scores_csv(scores, tuple(names)), 2),
              (named_scores_csv(names, scores), 0)]
    for text, column in tables:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == n + 1
        _only_data([r[column] for r in rows[1:]], names)
    lines = projector_tsv(latents, tuple(names))[1].split("\n")
    assert len(lines) == n + 2 and lines[-1] == ""
    cells = [line.split("\t") for line in lines[1:-1]]
    assert all(len(row) == 2 for row in cells)
    _only_data([row[1] for row in cells], [name or "none" for name in names])


def _only_data(cells: list[str], names: list[str]) -> None:
    for cell, name in zip(cells, names):
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", cell)
        assert not cell.lstrip().startswith(FORMULA)
        visible = re.sub(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+", "", name)
        kept = cell[1:] if cell.startswith("'") and visible[:1] in FORMULA else cell
        assert re.sub(r"\s+", "", kept) == visible  # the name, nothing else lost
