"""CLI: train, eval and encode end to end; user errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import csv
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.__main__ import main
from explorer.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "digits.safetensors"
    assert main(["train", "--data", "digits", "--epochs", "2", "--latent-dim", "3", "--hidden", "64",
                 "--conditional", "--out", str(out)]) == 0
    return out


def test_train_writes_a_checkpoint_and_reports_elbo_and_speed(tmp_path):
    out = tmp_path / "m.safetensors"
    result = subprocess.run(
        [sys.executable, "-m", "explorer", "train", "--data", "digits", "--arch", "conv", "--latent-dim", "2",
         "--epochs", "1", "--beta", "2", "--warmup-steps", "5", "--batch-size", "64", "--lr", "2e-3", "--seed", "3",
         "--likelihood", "gaussian", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    number = r"-?[\d.,]+(e[+-]\d+)?"
    assert re.fullmatch(rf"test ELBO {number} nats/image \(recon {number}, KL {number}\) "
                        r"\| active dimensions [0-2] of 2 \| [\d,]+ samples/s \| saved .*", last), last
    assert "training on digits" in result.stderr and "100%" in result.stderr  # the progress bar
    loaded = load_checkpoint(out)
    assert loaded.model_config.arch == "conv" and loaded.model_config.likelihood == "gaussian"
    assert loaded.train_config.beta == 2 and loaded.train_config.seed == 3 and loaded.dataset == "digits"


def test_train_names_the_collapsed_dimensions(tmp_path):
    result = run_cli("train", "--data", "digits", "--latent-dim", "8", "--hidden", "64", "--beta", "8", "--epochs", "2",
                     "--out", str(tmp_path / "m.safetensors"))
    assert result.returncode == 0, result.stderr
    active = int(re.search(r"active dimensions (\d) of 8", result.stdout).group(1))
    assert active < 4 and f"Posterior collapse: {8 - active} of 8 latent dimensions have collapsed (z" in result.stderr


def test_eval_prints_elbo_terms_iwae_and_active_units(digits_checkpoint, capsys):
    assert main(["eval", str(digits_checkpoint), "--k", "5"]) == 0
    out = capsys.readouterr().out
    for label in ("test ELBO", "reconstruction", "KL", "IWAE log p(x), k=5", "active units"):
        assert label in out
    assert "conditional, trained on digits" in out and "359 images" in out


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_encode_writes_means_logvars_and_labels(digits_checkpoint, tmp_path, suffix, capsys):
    out = tmp_path / f"latents{suffix}"
    assert main(["encode", str(digits_checkpoint), "--out", str(out), "--split", "test"]) == 0
    assert "wrote 359 latent vectors (3-D, test split)" in capsys.readouterr().out
    if suffix == ".npz":
        with np.load(out) as saved:
            assert saved["mu"].shape == saved["logvar"].shape == (359, 3)
            assert saved["labels"].shape == (359,) and saved["label_names"].tolist()[0] == "0"
    else:
        with open(out) as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == 359 and set(rows[0]) >= {"index", "label", "mu_0", "mu_2", "logvar_2"}
        float(rows[0]["mu_1"])


def test_an_autoencoder_trains_evaluates_encodes_and_embeds(tmp_path):
    out = tmp_path / "ae.safetensors"
    result = run_cli("train", "--kind", "ae", "--data", "digits", "--latent-dim", "2", "--hidden", "64",
                     "--epochs", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"test reconstruction [\d.]+ nats/image \(an autoencoder: no KL term\) \| [\d,]+ samples/s "
                        r"\| saved .*", result.stdout.strip().splitlines()[-1])
    assert "kl=" not in result.stderr and "test_recon=" in result.stderr  # the progress bar shows what applies
    scores = run_cli("eval", str(out))
    assert scores.returncode == 0 and "autoencoder, mlp, z=2" in scores.stdout
    assert re.search(r"reconstruction\s+[\d.]+ nats/image", scores.stdout)
    assert "ELBO, KL, log p(x)  not defined: an autoencoder encodes each image to one point" in scores.stdout
    assert "IWAE" not in scores.stdout and "active units" not in scores.stdout
    assert run_cli("encode", str(out), "--out", str(tmp_path / "z.npz")).returncode == 0
    with np.load(tmp_path / "z.npz") as saved:
        assert saved["mu"].shape == (359, 2) and "logvar" not in saved.files
    embedded = run_cli("embed", str(out), "--method", "pca", "--out", str(tmp_path / "map.npz"))
    assert embedded.returncode == 0 and "wrote the pca map of 359 test images" in embedded.stdout


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def assert_one_clear_line(result, pattern, code=1):
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(pattern, lines[0]), lines[0]


def test_bad_flag():
    assert_one_clear_line(run_cli("train", "--latent-dim", "two", "--out", "x.safetensors"),
                          r"^error: argument --latent-dim: expected a whole number from 1 to 128, not 'two'", code=2)


def test_bad_config_value(tmp_path):
    assert_one_clear_line(run_cli("train", "--latent-dim", "0", "--out", str(tmp_path / "x.safetensors")),
                          r"^error: latent_dim must be a whole number from 1 to 128")


def test_bad_data(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.full((4, 8, 8), np.nan))
    assert_one_clear_line(run_cli("train", "--data", str(bad), "--out", str(tmp_path / "x.safetensors")),
                          r"^error: Images contain NaN or infinite values")
    assert not (tmp_path / "x.safetensors").exists()


def test_bad_checkpoint_is_refused_without_running_it(tmp_path):
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"a": 1}))
    assert_one_clear_line(run_cli("eval", str(evil)), r"^error: evil.safetensors is a pickle or torch.save file")
    assert_one_clear_line(run_cli("encode", str(tmp_path / "none.safetensors"), "--out", "x.npz"),
                          r"^error: No checkpoint file")


def test_a_diverging_run_writes_nothing_and_says_why(tmp_path):
    out = tmp_path / "x.safetensors"
    result = run_cli("train", "--data", "digits", "--lr", "100", "--epochs", "20", "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"error: Training diverged at step \d+ .*Nothing was written\.", result.stderr)
    assert not out.exists()


def test_wrong_output_names(digits_checkpoint, tmp_path):
    assert_one_clear_line(run_cli("train", "--out", str(tmp_path / "m.pt")), r"--out must end in \.safetensors")
    assert_one_clear_line(run_cli("encode", str(digits_checkpoint), "--out", "x.json"),
                          r"--out must end in \.npz or \.csv")


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d[\d,]*\.\d+", text)]


@pytest.mark.parametrize("name, count", [("mnist5k-z2", 4), ("mnist5k-z16", 4), ("mnist5k-ae-z2", 1),
                                         ("mnist5k-ae-z16", 1), ("mnist5k-iwae-z16", 4), ("glyphs-z16", 10),
                                         ("sprites-z10-beta8", 10)])
def test_eval_reproduces_the_numbers_in_the_checkpoints_readme(name, count, capsys, monkeypatch):
    readme = (ROOT / "checkpoints" / "README.md").read_text()
    block = re.search(rf"\$ python -m explorer eval checkpoints/{name}\.safetensors\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(ROOT)
    assert main(["eval", f"checkpoints/{name}.safetensors"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[1:] and [line.split()[0] for line in printed.splitlines()] == [
        line.split()[0] for line in block.strip().splitlines()
    ]
    expected, got = _numbers(block), _numbers(printed)
    # ELBO, reconstruction, KL, IWAE (+ MIG and 5 gaps); an AE's reconstruction
    assert len(expected) == len(got) == count
    # Printed to 2 decimals; allow one unit in the last place for BLAS summation order on other CPUs.
    assert all(abs(e - g) <= 0.011 for e, g in zip(expected, got)), (expected, got)
    assert re.findall(r"active units\s+(.*)", printed) == re.findall(r"active units\s+(.*)", block)


@pytest.mark.parametrize("name, attribute", [("glyphs-z16", "bold"), ("mnist5k-z16", "ink")])
def test_vector_reproduces_the_tables_in_the_checkpoints_readme(name, attribute, capsys, monkeypatch):
    readme = (ROOT / "checkpoints" / "README.md").read_text()
    command = f"python -m explorer vector checkpoints/{name}.safetensors --attribute {attribute}"
    block = re.search(rf"\$ {re.escape(command)}\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(ROOT)
    assert main(command.split()[3:]) == 0
    printed = capsys.readouterr().out
    rows = lambda text: [line.split() for line in text.splitlines() if re.match(r"\s+[+-]\d", line)]  # noqa: E731
    expected, got = rows(block), rows(printed)
    assert len(got) == 8 and [r[:2] for r in got] == [r[:2] for r in expected]  # strengths and image counts
    # Shares of 300 images: one image's flip on another CPU's rounding moves a share by 0.3%; allow 1%.
    for want, have in zip(expected, got):
        assert all(abs(float(w.rstrip("%")) - float(h.rstrip("%"))) <= 1
                   for w, h in zip(want[2:], have[2:])), (want, have)
    assert float(got[-3][2].rstrip("%")) >= 90  # +1: nearly every image moved the intended way


def test_vector_names_the_attributes_a_data_set_has(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["vector", "checkpoints/mnist5k-z2.safetensors", "--attribute", "bold"]) == 1
    assert "mnist5k has no attribute 'bold'; choose one of ink, slant, width, height" in capsys.readouterr().err
