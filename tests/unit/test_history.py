"""Recorded training histories: what `train --history` writes, and that it is used only with its own weights."""

from __future__ import annotations

import numpy as np

from explorer.__main__ import main
from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.history import History, history_path, load_history, recorded_epoch, save_history
from explorer.latent import encode_dataset
from explorer.datafiles import load_dataset


def test_the_epochs_kept_are_every_one_to_10_then_every_5th_and_the_last():
    assert [e for e in range(0, 23) if recorded_epoch(e, 22)] == [*range(11), 15, 20, 22]


def test_a_history_round_trips_and_belongs_to_one_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    history = History(np.array([0, 1]), rng.normal(size=(2, 5, 2)).astype(np.float32),
                      rng.normal(size=(2, 5, 2)).astype(np.float32), np.arange(5) % 2, np.arange(10, 15))
    path = save_history(tmp_path / "m.test.history.npz", history, fingerprint="abc")
    loaded = load_history(path, fingerprint="abc")
    assert np.allclose(loaded.mu, history.mu, atol=1e-3) and loaded.labels.tolist() == [0, 1, 0, 1, 0]
    assert loaded.at(1).index.tolist() == [10, 11, 12, 13, 14]
    assert load_history(path, fingerprint="other weights") is None
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    assert load_history(tmp_path / "bad.npz", fingerprint="abc") is None
    assert load_history(tmp_path / "missing.npz", fingerprint="abc") is None


def test_train_history_records_the_test_map_before_and_during_training(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["train", "--data", "digits", "--epochs", "3", "--latent-dim", "2", "--hidden", "32", "--history",
                 "--out", str(out)]) == 0
    assert f"wrote the test map at 4 epochs to {history_path(out)}" in capsys.readouterr().out
    checkpoint = load_checkpoint(out)
    history = load_history(history_path(out), fingerprint=checkpoint.fingerprint)
    latents = encode_dataset(checkpoint.model, load_dataset("digits"), "test")
    assert history.epochs.tolist() == [0, 1, 2, 3] and history.mu.shape == (4, len(latents.index), 2)
    assert np.allclose(history.mu[-1], latents.mu, atol=2e-3) and history.labels.tolist() == latents.labels.tolist()
    assert not np.allclose(history.mu[0], history.mu[-1], atol=0.1)  # it moved while training


def test_the_bundled_histories_belong_to_the_bundled_models():
    for name in ("mnist5k-z2", "mnist5k-z2-beta0", "mnist5k-z2-beta50"):
        path = bundled_checkpoints()[name]
        assert load_history(history_path(path), fingerprint=load_checkpoint(path).fingerprint) is not None, name
