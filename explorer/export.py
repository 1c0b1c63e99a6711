"""Exporting latents and per-image scores: CSV, and the TensorFlow Embedding Projector's two TSV files."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from explorer.latent import Latents
from explorer.scoring import ImageScores


_FORMULA = ("=", "+", "-", "@")  # what makes a spreadsheet read a cell as a formula
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # control characters, and Unicode's line breaks


def text_cell(text: str) -> str:
    """Text from a user's file (a label name, a file name) as a table cell that is only data: its control
    characters (tabs, line breaks, ...) become one space each run, so it stays one cell of one row in any reader,
    and a leading apostrophe keeps '=cmd|...' or ' @SUM(...)' from running as a spreadsheet formula (OWASP's
    advice on CSV injection)."""
    text = _CONTROL.sub(" ", str(text))
    return "'" + text if text.lstrip().startswith(_FORMULA) else text


def _table(header: list[str], rows, separator: str = ",") -> str:
    """The one writer of every exported table: rows of numbers and `text_cell`s. CSV rows end in \r\n (RFC 4180);
    TSV cells are never quoted (the Embedding Projector reads no quoting), which text_cell makes safe."""
    out = io.StringIO()
    if separator == ",":
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    else:
        out.writelines(separator.join(map(str, row)) + "\n" for row in [header, *rows])
    return out.getvalue()


def _label(latents: Latents | ImageScores, label_names: tuple[str, ...], i: int) -> tuple[str, str]:
    """(label, its name as a text cell), or two empty cells for unlabelled data."""
    if latents.labels is None:
        return "", ""
    label = int(latents.labels[i])
    return str(label), text_cell(label_names[label] if label < len(label_names) else str(label))


def _score_values(scores: ImageScores, i: int) -> list[str]:
    return [f"{v:.4f}" for v in (scores.log_px[i], scores.elbo[i], scores.recon[i], scores.kl[i])]


def scores_csv(scores: ImageScores, label_names: tuple[str, ...] = ()) -> str:
    """One row per image: data set row, label and its name, then the IWAE bound, ELBO, reconstruction and KL (nats)."""
    header = ["index", "label", "label_name", f"log_px_iwae_k{scores.k}", "elbo", "reconstruction", "kl"]
    return _table(header, ([int(row), *_label(scores, label_names, i), *_score_values(scores, i)]
                           for i, row in enumerate(scores.index)))


def named_scores_csv(names: list[str] | tuple[str, ...], scores: ImageScores) -> str:
    """One row per uploaded image, named by its file (as text a spreadsheet will not run), then its scores."""
    header = ["file", f"log_px_iwae_k{scores.k}", "elbo", "reconstruction", "kl"]
    return _table(header, ([text_cell(name), *_score_values(scores, i)] for i, name in enumerate(names)))


def latents_csv(latents: Latents, label_names: tuple[str, ...], with_logvar: bool = True) -> str:
    """One row per image: dataset row, label, label name, the means (and log-variances, where the model has them)."""
    dims = range(latents.mu.shape[1])
    with_logvar = with_logvar and latents.logvar is not None
    header = ["index", "label", "label_name", *(f"mu_{d}" for d in dims),
              *((f"logvar_{d}" for d in dims) if with_logvar else ())]
    return _table(header, ([int(row), *_label(latents, label_names, i), *latents.mu[i].tolist(),
                            *(latents.logvar[i].tolist() if with_logvar else [])]
                           for i, row in enumerate(latents.index)))


def projector_tsv(latents: Latents, label_names: tuple[str, ...]) -> tuple[str, str]:
    """(vectors.tsv, metadata.tsv) for projector.tensorflow.org: tab-separated means, and a labelled metadata table."""
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in latents.mu) + "\n"
    rows = ([int(row), _label(latents, label_names, i)[1] or "none"] for i, row in enumerate(latents.index))
    return vectors, _table(["index", "label"], rows, separator="\t")


def projector_zip(latents: Latents, label_names: tuple[str, ...]) -> bytes:
    """Both projector files in one zip, ready for the projector's Load button."""
    vectors, metadata = projector_tsv(latents, label_names)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("vectors.tsv", vectors)
        archive.writestr("metadata.tsv", metadata)
    return buffer.getvalue()
