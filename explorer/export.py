"""Exporting latents and per-image scores: CSV, and the TensorFlow Embedding Projector's two TSV files."""

from __future__ import annotations

import csv
import io
import zipfile

from explorer.latent import Latents
from explorer.scoring import ImageScores


_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


def text_cell(text: str) -> str:
    """Text from a user's file (a label name, a file name) as a CSV cell a spreadsheet shows as text: a leading
    apostrophe keeps '=cmd|...' or '@SUM(...)' from running as a formula (OWASP's advice on CSV injection)."""
    text = str(text)
    return "'" + text if text.startswith(_FORMULA) else text


def _label_text(latents: Latents | ImageScores, label_names: tuple[str, ...], i: int) -> tuple[str, str]:
    if latents.labels is None:
        return "", ""
    label = int(latents.labels[i])
    return str(label), label_names[label] if label < len(label_names) else str(label)


def _csv_label(latents: Latents | ImageScores, label_names: tuple[str, ...], i: int) -> tuple[str, str]:
    label, name = _label_text(latents, label_names, i)
    return label, text_cell(name)


def scores_csv(scores: ImageScores, label_names: tuple[str, ...] = ()) -> str:
    """One row per image: data set row, label and its name, then the IWAE bound, ELBO, reconstruction and KL (nats)."""
    out = io.StringIO()
    writer = csv.writer(out)  # rows end in \r\n (RFC 4180), so a cell holding \r or \n is quoted
    writer.writerow(["index", "label", "label_name", f"log_px_iwae_k{scores.k}", "elbo", "reconstruction", "kl"])
    for i, row in enumerate(scores.index):
        values = (scores.log_px[i], scores.elbo[i], scores.recon[i], scores.kl[i])
        writer.writerow([int(row), *_csv_label(scores, label_names, i), *(f"{v:.4f}" for v in values)])
    return out.getvalue()


def named_scores_csv(names: list[str] | tuple[str, ...], scores: ImageScores) -> str:
    """One row per uploaded image, named by its file (as text a spreadsheet will not run), then its scores."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", f"log_px_iwae_k{scores.k}", "elbo", "reconstruction", "kl"])
    for i, name in enumerate(names):
        values = (scores.log_px[i], scores.elbo[i], scores.recon[i], scores.kl[i])
        writer.writerow([text_cell(name), *(f"{v:.4f}" for v in values)])
    return out.getvalue()


def latents_csv(latents: Latents, label_names: tuple[str, ...], with_logvar: bool = True) -> str:
    """One row per image: dataset row, label, label name, the means (and log-variances, where the model has them)."""
    dims = range(latents.mu.shape[1])
    with_logvar = with_logvar and latents.logvar is not None
    out = io.StringIO()
    writer = csv.writer(out)  # rows end in \r\n (RFC 4180), so a cell holding \r or \n is quoted
    writer.writerow(["index", "label", "label_name", *(f"mu_{d}" for d in dims),
                     *((f"logvar_{d}" for d in dims) if with_logvar else ())])
    for i, row in enumerate(latents.index):
        extra = latents.logvar[i].tolist() if with_logvar else []
        writer.writerow([int(row), *_csv_label(latents, label_names, i), *latents.mu[i].tolist(), *extra])
    return out.getvalue()


def projector_tsv(latents: Latents, label_names: tuple[str, ...]) -> tuple[str, str]:
    """(vectors.tsv, metadata.tsv) for projector.tensorflow.org: tab-separated means, and a labelled metadata table."""
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in latents.mu) + "\n"
    lines = ["index\tlabel"]
    for i, row in enumerate(latents.index):
        name = _label_text(latents, label_names, i)[1] or "none"
        lines.append(f"{int(row)}\t{_one_cell(name)}")
    return vectors, "\n".join(lines) + "\n"


def _one_cell(text: str) -> str:
    """A TSV cell (the projector reads no quoting): its tabs and line breaks become spaces, so it stays one cell of
    one row."""
    return " ".join(str(text).replace("\t", " ").splitlines()) if text else text


def projector_zip(latents: Latents, label_names: tuple[str, ...]) -> bytes:
    """Both projector files in one zip, ready for the projector's Load button."""
    vectors, metadata = projector_tsv(latents, label_names)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("vectors.tsv", vectors)
        archive.writestr("metadata.tsv", metadata)
    return buffer.getvalue()
