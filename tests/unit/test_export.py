"""Exports: what is written parses back to the same numbers."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np

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


def test_a_label_that_reads_as_a_formula_is_text_in_csv_and_as_it_is_for_the_projector():
    latents = Latents(np.zeros((2, 2), np.float32), None, np.array([0, 1]), np.array([4, 9]))
    names = ("=HYPERLINK(\"http://e.vil\")", "plain")
    rows = list(csv.reader(io.StringIO(latents_csv(latents, names))))
    assert rows[1][2] == "'" + names[0] and rows[2][2] == "plain"
    assert projector_tsv(latents, names)[1].splitlines()[1] == f"4\t{names[0]}"


def test_a_line_break_in_a_label_never_starts_a_row():
    """A label holding \\r or \\n (then a formula) stays inside its one quoted cell, and a TSV row stays one row."""
    latents = Latents(np.zeros((3, 2), np.float32), None, np.array([0, 1, 2]), np.array([4, 9, 12]))
    names = ("x\r=cmd|' /C calc'!A0", "y\n@SUM(1+1)", "z\r\n+1")
    scores = ImageScores(np.array([4, 9, 12]), np.array([0, 1, 2]), *np.zeros((4, 3)), k=5)
    for text, column in ((latents_csv(latents, names), 2), (scores_csv(scores, names), 2),
                         (named_scores_csv(names, scores), 0)):  # file names of uploads: the same care
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) == 4 and [r[column] for r in rows[1:]] == list(names)  # one row each, the label whole
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row[:3])
    metadata = projector_tsv(latents, names)[1].split("\n")
    assert metadata[1:4] == ["4\tx =cmd|' /C calc'!A0", "9\ty @SUM(1+1)", "12\tz +1"] and metadata[4] == ""
