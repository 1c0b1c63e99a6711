"""TrainingJob: a run on a thread that can be watched, stopped and capped; and the diagnostics it feeds."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.job import DIVERGED, DONE, RUNNING, STOPPED, WAITING, TrainingJob
from explorer.latent import reconstruct
from explorer.model import create_model
from explorer.runqueue import RunQueue
from explorer.alignment import align_snapshots, common_range

SMALL = ModelConfig(latent_dim=2, hidden_dims=(32,))


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_job_trains_in_the_background_with_metrics_previews_and_snapshots(tiny_dataset):
    ds = tiny_dataset(n=100)
    job = TrainingJob(ds, SMALL, TrainConfig(epochs=3, batch_size=16))
    assert job.status == WAITING and job.metrics() == [] and job.preview()[1] is None  # built on its thread
    before = reconstruct(create_model(SMALL, ds.image_shape, ds.num_classes, 0), ds, job.preview_rows)
    job.start().join(60)
    assert job.status == DONE and job.message == "Training finished."
    metrics = job.metrics()
    assert len(metrics) == metrics[-1].total_steps == 15
    snapshots = job.snapshots()
    assert [s.epoch for s in snapshots] == [0, 1, 2, 3] and snapshots[0].mu.shape == (20, 2)  # 0: untrained
    originals, recons = job.preview()
    assert originals.shape == recons.shape == (8, 1, 8, 8)
    assert sorted(ds.labels[job.preview_rows[:3]]) == [0, 1, 2]  # every label shown first, then more
    assert not np.allclose(recons, before)  # the reconstructions moved as it learned
    assert len(job.step_history()) == 15 and not job.model.training


def test_stop_ends_the_run_within_a_second_and_keeps_the_model(tiny_dataset):
    ds = tiny_dataset(n=100)
    job = TrainingJob(ds, SMALL, TrainConfig(epochs=1000, batch_size=16)).start()
    wait_for(lambda: len(job.metrics()) > 5)
    initial = {k: v.clone() for k, v in job.model.state_dict().items()}
    asked = time.monotonic()
    job.stop()
    job.join(5)
    assert time.monotonic() - asked < 1.0
    assert job.status == STOPPED and job.message.startswith("Stopped after")
    assert all(torch.isfinite(v).all() for v in job.model.state_dict().values())
    assert job.model.decode(torch.zeros(1, 2)).shape == (1, 1, 8, 8)
    assert any(not torch.equal(initial[k], v) for k, v in job.model.state_dict().items()) or len(job.metrics()) > 5


def test_the_cap_queues_a_second_run_until_a_slot_frees(tiny_dataset):
    ds = tiny_dataset(n=100)
    queue = RunQueue(1)
    first = TrainingJob(ds, SMALL, TrainConfig(epochs=1000, batch_size=16), queue=queue).start()
    wait_for(lambda: first.status == RUNNING)
    second = TrainingJob(ds, SMALL, TrainConfig(epochs=1, batch_size=16), queue=queue).start()
    time.sleep(0.5)
    assert second.status == WAITING and second.metrics() == []
    assert second.standing().place == 1 and first.standing() is None
    first.stop()
    second.join(30)
    assert second.status == DONE and len(second.metrics()) == 5
    assert queue.running == 0 and second.standing() is None  # both slots given back


def test_queued_runs_start_in_the_order_start_was_pressed(tiny_dataset):
    ds = tiny_dataset(n=100)
    queue = RunQueue(1)
    holder = queue.enter()  # another visitor's run, holding the only slot
    earlier = TrainingJob(ds, SMALL, TrainConfig(epochs=1000, batch_size=16), queue=queue).start()
    later = TrainingJob(ds, SMALL, TrainConfig(epochs=1000, batch_size=16), queue=queue).start()
    # The places are fixed in start(), before either thread has built its model and asked for a slot.
    assert earlier.standing().place == 1 and later.standing().place == 2
    wait_for(lambda: len(later.snapshots()) == 1)  # the later thread is waiting too
    queue.leave(holder)
    wait_for(lambda: earlier.status == RUNNING)
    assert later.status == WAITING and later.standing().place == 1
    earlier.stop()
    wait_for(lambda: later.status == RUNNING)
    later.stop()
    for job in (earlier, later):
        job.join(10)
    assert queue.running == 0


def test_a_waiting_run_is_told_its_place_and_an_estimate_once_speed_is_known(tiny_dataset):
    ds = tiny_dataset(n=100)
    queue = RunQueue(1)
    TrainingJob(ds, SMALL, TrainConfig(epochs=1, batch_size=16), queue=queue).start().join(30)  # measures speed
    holder = queue.enter(seconds_left=lambda: 50.0)
    job = TrainingJob(ds, SMALL, TrainConfig(epochs=1), queue=queue).start()
    standing = job.standing()
    assert (standing.place, standing.slots, standing.wait_s) == (1, 1, 50.0)
    job.stop()
    job.join(5)
    queue.leave(holder)


def test_stopping_a_queued_run_ends_it_without_training(tiny_dataset):
    ds = tiny_dataset(n=100)
    queue = RunQueue(1)
    holder = queue.enter()
    job = TrainingJob(ds, SMALL, TrainConfig(epochs=1), queue=queue).start()
    behind = queue.enter()
    time.sleep(0.3)
    job.stop()
    job.join(5)
    assert job.status == STOPPED and job.metrics() == [] and "before it started" in job.message
    assert queue.running == 1 and queue.place(behind) == 1  # it left the line, and never took (or leaked) a slot
    queue.leave(holder)
    assert queue.place(behind) is None


def test_a_diverging_run_ends_with_the_reason_and_finite_weights(tiny_dataset):
    ds = tiny_dataset(n=100)
    job = TrainingJob(ds, SMALL, TrainConfig(epochs=50, batch_size=16, lr=100.0)).start()
    job.join(60)
    assert job.status == DIVERGED and "Training diverged at step" in job.message
    assert all(torch.isfinite(v).all() for v in job.model.state_dict().values())


def test_bad_settings_fail_before_a_thread_starts(tiny_dataset):
    unlabelled = tiny_dataset(n=40)
    object.__setattr__(unlabelled, "labels", None)
    object.__setattr__(unlabelled, "label_names", ())
    with pytest.raises(ValueError, match="needs labelled data"):
        TrainingJob(unlabelled, ModelConfig(conditional=True), TrainConfig())


@pytest.mark.parametrize("method", ["identity", "pca", "umap"])
def test_snapshots_align_on_common_axes(method):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(60, 2)).astype(np.float32)
    snapshots = [base * scale for scale in (0.2, 0.6, 1.0)]
    maps = align_snapshots(snapshots, method)
    assert [m.shape for m in maps] == [(60, 2)] * 3
    (x0, x1), (y0, _) = common_range(maps)
    assert all(x0 <= m[:, 0].min() and m[:, 0].max() <= x1 and y0 <= m[:, 1].min() for m in maps)
    if method != "umap":  # one linear frame: the early, packed snapshot stays smaller than the last
        assert np.ptp(maps[0]) < np.ptp(maps[-1])
