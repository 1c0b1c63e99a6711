"""Checkpoints: round trips, atomic writes, and refusals of anything that is not ours, executing nothing."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_tensors

from explorer import checkpoint as ckpt
from explorer.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from explorer.config import ModelConfig, TrainConfig
from explorer.model import create_model
from explorer.train import train_steps


@pytest.fixture
def trained(tiny_dataset):
    ds = tiny_dataset(n=80)
    config = ModelConfig(arch="conv", latent_dim=3, hidden_dims=(16,), conv_channels=(4,), conditional=True)
    model = create_model(config, ds.image_shape, ds.num_classes)
    train_config = TrainConfig(epochs=2, batch_size=16)
    history = [m.to_dict() for m in train_steps(model, ds, train_config)]
    return model, ds, train_config, history


def test_round_trip_keeps_weights_configs_and_history(trained, tmp_path):
    model, ds, train_config, history = trained
    path = save_checkpoint(
        tmp_path / "m.safetensors", model, dataset=ds.name, label_names=ds.label_names,
        train_config=train_config, step_history=history,
    )
    loaded = load_checkpoint(path)
    assert loaded.model_config == model.config and loaded.train_config == train_config
    assert loaded.image_shape == (1, 8, 8) and loaded.label_names == ("0", "1", "2") and loaded.dataset == ds.name
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key])
    assert loaded.history["steps"]["step"] == [m["step"] for m in history]
    assert [e["epoch"] for e in loaded.history["epochs"]] == [1, 2]
    assert loaded.created.endswith("+00:00") and len(loaded.fingerprint) == 64
    x, y = torch.tensor(ds.pixels(slice(0, 4))), torch.tensor(ds.labels[:4])
    assert torch.equal(model.encode(x, y)[0], loaded.model.encode(x, y)[0])
    assert load_checkpoint(path.read_bytes()).fingerprint == loaded.fingerprint  # bytes (uploads) too
    assert loaded.payload == path.read_bytes()  # what the app offers as a download is the file itself


def test_loading_draws_nothing_from_the_global_rng_and_gives_a_trainable_model(trained, tmp_path):
    model, ds, train_config, history = trained
    path = save_checkpoint(tmp_path / "m.safetensors", model, dataset=ds.name, label_names=ds.label_names)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    loaded = load_checkpoint(path).model  # another thread's seeded model build would see the same numbers
    assert torch.equal(torch.rand(3), expected)
    tensors = [*loaded.parameters(), *loaded.buffers()]
    assert not any(t.is_meta for t in tensors) and all(p.requires_grad for p in loaded.parameters())
    assert len(list(train_steps(loaded.train(), ds, TrainConfig(epochs=1, batch_size=16)))) > 0


def test_long_histories_are_thinned(trained):
    model, *_ = trained
    steps = [{"step": i, "epoch": 1, "recon": 1.0, "kl": 1.0, "beta": 1.0, "loss": 2.0, "kl_per_dim": [1.0]}
             for i in range(1, 10_001)]
    loaded = load_checkpoint(checkpoint_bytes(model, dataset="x", step_history=steps))
    kept = loaded.history["steps"]["step"]
    assert len(kept) <= ckpt.MAX_HISTORY_ROWS + 1 and kept[0] == 1 and kept[-1] == 10_000


def test_checkpoints_must_be_safetensors_files(trained, tmp_path):
    with pytest.raises(ValueError, match=r"name it 'm.safetensors'"):
        save_checkpoint(tmp_path / "m.pt", trained[0], dataset="x")


def test_a_crash_mid_write_keeps_the_old_file_and_leaves_no_temp(trained, tmp_path, monkeypatch):
    model, *_ = trained
    path = save_checkpoint(tmp_path / "m.safetensors", model, dataset="old")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, dataset="new")
    assert load_checkpoint(path).dataset == "old"
    assert os.listdir(tmp_path) == ["m.safetensors"]


class Evil:
    """Unpickling this creates a marker file: proof that the loader executed the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_pickle_files_are_refused_without_executing_them(tmp_path, writer):
    marker = tmp_path / "executed"
    path = tmp_path / "model.safetensors"
    if writer == "pickle":
        path.write_bytes(pickle.dumps({"weights": Evil(marker)}))
    else:
        torch.save({"weights": Evil(marker)}, path)
    with pytest.raises(CheckpointError, match=r"pickle or torch.save file. It was not opened, because unpickling"):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_file(trained, tmp_path):
    payload = checkpoint_bytes(trained[0], dataset="x")
    for cut in (4, 100, len(payload) // 2, len(payload) - 10):
        with pytest.raises(CheckpointError, match=r"too short|not a complete|damaged weights|not a \.safetensors"):
            load_checkpoint(payload[:cut])


def test_foreign_safetensors_without_our_metadata():
    with pytest.raises(CheckpointError, match=r"not one written by VAE Latent Explorer"):
        load_checkpoint(save_tensors({"w": torch.zeros(3)}))


def _with_metadata(model, **changes) -> bytes:
    payload = checkpoint_bytes(model, dataset="x")
    (size,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8 : 8 + size])
    header["__metadata__"].update(changes)
    data = json.dumps(header).encode()
    data += b" " * (-len(data) % 8)
    return struct.pack("<Q", len(data)) + data + payload[8 + size :]


def test_foreign_tensors_under_our_metadata(trained):
    model, *_ = trained
    meta = ckpt._header(checkpoint_bytes(model, dataset="x"), "x")["__metadata__"]
    payload = save_tensors({"encoder.weight": torch.zeros(2, 2)}, metadata=meta)
    with pytest.raises(CheckpointError, match=r"weights do not match the model its metadata describes"):
        load_checkpoint(payload)


def test_newer_format_version(trained):
    with pytest.raises(CheckpointError, match=r"newer VAE Latent Explorer \(format 99; this one reads up to 1\)"):
        load_checkpoint(_with_metadata(trained[0], format_version="99"))


def test_metadata_asking_for_a_giant_model_is_refused_without_building_it(trained):
    giant = json.dumps({**trained[0].config.to_dict(), "hidden_dims": [10**7]})
    with pytest.raises(CheckpointError, match=r"damaged or inconsistent metadata .*hidden_dims"):
        load_checkpoint(_with_metadata(trained[0], model_config=giant))


def test_garbage_metadata(trained):
    with pytest.raises(CheckpointError, match=r"damaged or inconsistent metadata"):
        load_checkpoint(_with_metadata(trained[0], model_config="{not json"))


def test_nan_weights(trained):
    model = trained[0]
    with torch.no_grad():
        model.to_mu_logvar.bias.fill_(float("nan"))
    with pytest.raises(CheckpointError, match=r"NaN or infinite weights"):
        load_checkpoint(checkpoint_bytes(model, dataset="x"))


def test_garbage_bytes_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match=r"not a complete \.safetensors file"):
        load_checkpoint(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r"No checkpoint file"):
        load_checkpoint(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("name", ["mnist5k-z2", "mnist5k-z16"])
def test_bundled_checkpoints_load(name):
    bundled = ckpt.bundled_checkpoints()
    assert name in bundled
    loaded = load_checkpoint(bundled[name])
    assert loaded.dataset == "mnist5k" and loaded.image_shape == (1, 28, 28)
    assert loaded.model_config.latent_dim == int(name.split("-z")[1])
    assert loaded.history["epochs"], "bundled models carry their training history"


# --- the saved-models folder, shared by every visitor ------------------------------------------------------------


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "saved"
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(folder))
    return folder


def test_two_saves_of_one_new_name_at_once_one_wins(trained, models_dir):
    import threading

    start, results = threading.Barrier(2), {}

    def save(i):
        start.wait()
        try:
            results[i] = ckpt.save_new_model("shared", trained[0], dataset=("first", "second")[i])
        except ValueError as error:
            results[i] = error

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [i for i, r in results.items() if isinstance(r, Path)]
    assert len(won) == 1 and "already exists" in str(results[1 - won[0]])
    assert load_checkpoint(models_dir / "shared.safetensors").dataset == ("first", "second")[won[0]]


def test_a_name_that_differs_only_in_case_is_taken(trained, models_dir):
    ckpt.save_new_model("Shared-A", trained[0], dataset="x")
    for name, existing in (("shared-a", "Shared-A"), ("SHARED-A", "Shared-A"), ("MNIST5K-Z2", "mnist5k-z2")):
        with pytest.raises(ValueError,
                           match=rf"named '{existing}' already exists \(names count as the same in any case\)"):
            ckpt.save_new_model(name, trained[0], dataset="x")
    with pytest.raises(ValueError, match=r"not a usable name"):
        ckpt.save_new_model("../escape", trained[0], dataset="x")
    assert sorted(p.name for p in models_dir.iterdir()) == ["Shared-A.safetensors"]


def test_the_link_never_overwrites_even_past_the_name_check(trained, models_dir, monkeypatch):
    """Another server process can create the name after this one's check: the hard link still refuses."""
    models_dir.mkdir()
    original = ckpt.write_new

    def sneak_in(path, data):
        Path(path).write_bytes(b"another process's model")
        return original(path, data)

    monkeypatch.setattr(ckpt, "write_new", sneak_in)
    with pytest.raises(ValueError, match="already exists"):
        ckpt.save_new_model("late", trained[0], dataset="mine")
    assert (models_dir / "late.safetensors").read_bytes() == b"another process's model"
    assert [p.name for p in models_dir.iterdir()] == ["late.safetensors"]  # no temp file left


def test_damaged_files_in_the_models_folder_are_not_listed(trained, models_dir):
    models_dir.mkdir()
    good = checkpoint_bytes(trained[0], dataset="x")
    (models_dir / "good.safetensors").write_bytes(good)
    (models_dir / "garbage.safetensors").write_bytes(os.urandom(300))
    (models_dir / "empty.safetensors").write_bytes(b"")
    (models_dir / "foreign.safetensors").write_bytes(save_tensors({"w": torch.zeros(3)}))
    (models_dir / "pickle.safetensors").write_bytes(pickle.dumps({"a": 1}))
    known = ckpt.known_checkpoints()
    assert "good" in known and not {"garbage", "empty", "foreign", "pickle"} & set(known)
    (models_dir / "garbage.safetensors").write_bytes(good)  # repaired: listed again (the check is per version)
    assert "garbage" in ckpt.known_checkpoints()


def test_stale_temp_files_are_removed_and_fresh_ones_kept(tmp_path):
    from explorer.files import remove_stale_temps

    stale, fresh = tmp_path / ".a.safetensors.x1.tmp", tmp_path / ".b.safetensors.x2.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half a model")
    os.utime(stale, (0, 0))
    (tmp_path / "kept.safetensors").write_bytes(b"x")
    assert remove_stale_temps(tmp_path, older_than_s=600) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "kept.safetensors"]


# A metadata bomb: a small header whose JSON parses into many times its size (the hostile pass: 60 MB of
# label_names held 620 MB once parsed).
@pytest.mark.parametrize("text", [
    json.dumps([0.12345] * 50_000), json.dumps([[]] * 50_000), json.dumps([{}] * 50_000),
    json.dumps(["a"] * 50_000), json.dumps({"steps": {"kl": [[0.5] * 16] * 2000}}), json.dumps([10**80] * 5000),
])
def test_the_metadata_is_counted_at_least_at_its_parsed_size(text):
    import tracemalloc

    tracemalloc.start()
    parsed = json.loads(text)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert parsed and ckpt._parsed_size({"history": text}, "x") >= held


def test_a_metadata_bomb_is_refused_before_it_is_parsed(trained):
    model = trained[0]
    with pytest.raises(CheckpointError, match=r"more than any checkpoint of this app holds \(8 MB"):
        load_checkpoint(_with_metadata(model, label_names=json.dumps(["a"] * 3_000_000)))
    with pytest.raises(CheckpointError, match=r"would take [\d,]+ MB of memory once read"):
        load_checkpoint(_with_metadata(model, history=json.dumps({"steps": {"kl": [[]] * 1_500_000}})))
    with pytest.raises(CheckpointError, match=r"nested too deeply"):
        load_checkpoint(_with_metadata(model, history="[" * 50 + "]" * 50))
    with pytest.raises(CheckpointError, match=r"2,000 label names"):
        load_checkpoint(_with_metadata(model, label_names=json.dumps(["a"] * 2000)))
    assert load_checkpoint(_with_metadata(model, label_names=json.dumps(["[[[[[[[[[["] * 10)))  # brackets in names


def test_a_checkpoint_is_counted_with_its_parsed_metadata():
    from explorer.budget import nbytes

    checkpoint = load_checkpoint(ckpt.BUNDLED_DIR / "mnist5k-z16.safetensors")
    weights = sum(t.numel() * 4 for t in checkpoint.model.state_dict().values())
    assert checkpoint.metadata_bytes > 1_000_000  # its history: 2,000 rows of 16 KL values
    assert nbytes(checkpoint) == len(checkpoint.payload) + weights + checkpoint.metadata_bytes


def test_a_model_past_the_servers_budget_is_refused_before_its_weights_are_read(trained):
    seen = []
    with pytest.raises(CheckpointError, match=r"cannot be used on this server: too big"):
        load_checkpoint(checkpoint_bytes(trained[0], dataset="x"), limit=lambda cost: seen.append(cost) or "too big")
    assert seen[0].parameters == sum(p.numel() for p in trained[0].parameters())


def test_a_save_is_written_from_the_weights_and_reads_back_the_same(trained):
    import io

    model, ds, train_config, history = trained
    buffer = io.BytesIO()
    ckpt.write_checkpoint(buffer, model, dataset="d", label_names=ds.label_names, train_config=train_config,
                          step_history=history, data_fingerprint="f" * 64)
    loaded = load_checkpoint(buffer.getvalue())
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in model.state_dict().items())
    assert loaded.data_fingerprint == "f" * 64 and loaded.label_names == ds.label_names
    from safetensors.torch import load as reference
    assert set(reference(buffer.getvalue())) == set(model.state_dict())  # safetensors' own reader agrees


def test_saves_stop_at_the_disk_quota_and_say_so(trained, models_dir, monkeypatch):
    ckpt.save_new_model("first", trained[0], dataset="x")
    used = ckpt.saved_bytes(models_dir)
    monkeypatch.setenv("EXPLORER_MODELS_QUOTA_MB", str((used + 2**20) / 2**20))  # room for ~1 MB more
    with pytest.raises(ValueError, match=r"space for saved models is full \([\d,]+ of [\d,]+ MB used.*download"):
        ckpt.save_new_model("second", trained[0], dataset="x")
    assert sorted(p.name for p in models_dir.iterdir()) == ["first.safetensors"]


def test_the_models_folder_lists_only_names_a_save_makes_once_per_name(trained, models_dir):
    models_dir.mkdir()
    good = checkpoint_bytes(trained[0], dataset="x")
    for name in ("mine", "MINE", ".hidden", "with space", "Mnist5k-Z2"):
        (models_dir / f"{name}.safetensors").write_bytes(good)
    saved = [name for name, path in ckpt.known_checkpoints().items() if path.parent == models_dir]
    assert saved == ["MINE"]  # the first of the case variants in sorted order; the bundled name is not shadowed
