"""Training: metrics every step, same seed same run, divergence keeps finite weights, stop keeps progress."""

from __future__ import annotations

import threading

import pytest
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.model import create_model
from explorer.train import StepMetrics, TrainingDiverged, measure_speed, train_steps

MODEL = ModelConfig(latent_dim=3, hidden_dims=(32,))


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def run(dataset, config, model_config=MODEL, seed=0):
    model = create_model(model_config, dataset.image_shape, dataset.num_classes, seed=seed)
    return model, list(train_steps(model, dataset, config))


def test_metrics_after_every_step_and_test_elbo_at_each_epoch_end(tiny_dataset):
    ds = tiny_dataset(n=80)  # 64 training images -> 4 steps of 16 per epoch
    _, metrics = run(ds, TrainConfig(epochs=3, batch_size=16, warmup_steps=6, beta=2.0))
    assert all(isinstance(m, StepMetrics) for m in metrics)
    assert [m.step for m in metrics] == list(range(1, 13)) and metrics[0].total_steps == 12
    assert [m.epoch for m in metrics] == [1] * 4 + [2] * 4 + [3] * 4
    assert [m.epoch_end for m in metrics] == ([False] * 3 + [True]) * 3
    assert metrics[0].beta == 0.0 and metrics[3].beta == pytest.approx(1.0) and metrics[-1].beta == 2.0
    for m in metrics:
        assert len(m.kl_per_dim) == 3 and m.kl == pytest.approx(sum(m.kl_per_dim), rel=1e-4)
        assert m.samples_per_s > 0 and m.grad_norm > 0
        assert m.loss == pytest.approx(m.recon + m.beta * m.kl, rel=1e-4)
    assert metrics[-1].test_elbo == pytest.approx(-(metrics[-1].test_recon + metrics[-1].test_kl))


def test_same_seed_same_metrics_and_weights(tiny_dataset):
    ds = tiny_dataset(n=80)
    config = TrainConfig(epochs=2, batch_size=16, seed=7)
    a, metrics_a = run(ds, config, seed=7)
    b, metrics_b = run(ds, config, seed=7)
    strip = lambda ms: [(m.recon, m.kl, m.loss, m.kl_per_dim, m.test_elbo) for m in ms]  # noqa: E731 (no timings)
    assert strip(metrics_a) == strip(metrics_b)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    c, metrics_c = run(ds, TrainConfig(epochs=2, batch_size=16, seed=8), seed=8)
    assert strip(metrics_c) != strip(metrics_a)


def test_concurrent_runs_stay_reproducible(tiny_dataset):
    """Each run draws from its own generators, so a run beside another matches a run alone. Every run is on a
    thread of its own, as the app's are: a thread's torch ops take their thread count when it first runs one,
    and a count can round differently (under bf16 autocast more so), so only the company differs."""
    ds = tiny_dataset(n=80)
    results = {}

    def worker(name, seed):
        results[name] = run(ds, TrainConfig(epochs=2, batch_size=16, seed=seed), seed=seed)[1]

    def together(*runs):
        threads = [threading.Thread(target=worker, args=r) for r in runs]
        [t.start() for t in threads]
        [t.join() for t in threads]

    together(("alone", 3))
    together(("a", 3), ("b", 11))
    assert [m.loss for m in results["a"]] == [m.loss for m in results["alone"]]


def test_a_diverging_run_raises_and_keeps_the_last_finite_weights(tiny_dataset):
    ds = tiny_dataset(n=80)
    model = create_model(MODEL, ds.image_shape)
    seen = []
    with pytest.raises(TrainingDiverged,
                       match=r"diverged at step \d+ .*(NaN or infinite|exploded to).*lower learning rate"):
        for m in train_steps(model, ds, TrainConfig(epochs=20, batch_size=16, lr=100.0)):
            seen.append(m)
    assert all(torch.isfinite(p).all() for p in model.state_dict().values())
    assert seen, "the run should take at least one finite step first"
    assert torch.isfinite(model.decode(torch.zeros(1, 3))).all()  # still usable


def test_a_non_finite_gradient_leaves_the_previous_steps_weights(tiny_dataset):
    ds = tiny_dataset(n=80)
    model = create_model(MODEL, ds.image_shape)
    calls = {"n": 0}

    def poison(grad):  # the third backward pass produces an infinite gradient
        calls["n"] += 1
        return grad * float("inf") if calls["n"] == 3 else grad

    model.to_mu_logvar.weight.register_hook(poison)
    snapshot = None
    with pytest.raises(TrainingDiverged, match=r"step 3 .*gradient became NaN or infinite.*weights from step 2"):
        for _ in train_steps(model, ds, TrainConfig(epochs=1, batch_size=16)):
            snapshot = weights(model)
    assert all(torch.equal(v, snapshot[k]) for k, v in model.state_dict().items())


def test_a_set_stop_event_ends_the_run_within_one_step_keeping_the_model(tiny_dataset):
    ds = tiny_dataset(n=80)
    model = create_model(MODEL, ds.image_shape)
    initial = weights(model)
    stop = threading.Event()
    seen = []
    for m in train_steps(model, ds, TrainConfig(epochs=50, batch_size=16), stop_event=stop):
        seen.append(m)
        if m.step == 5:
            stop.set()
    assert len(seen) == 5  # nothing after the step during which stop was set
    after = weights(model)
    assert any(not torch.equal(after[k], initial[k]) for k in initial)  # training so far is kept
    assert all(torch.isfinite(v).all() for v in after.values())


def test_stop_from_another_thread(tiny_dataset):
    ds = tiny_dataset(n=80)
    model = create_model(MODEL, ds.image_shape)
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    metrics = list(train_steps(model, ds, TrainConfig(epochs=1000, batch_size=16), stop_event=stop))
    timer.join()
    assert 0 < len(metrics) < 400_000


def test_model_and_data_must_agree(tiny_dataset):
    model = create_model(MODEL, (1, 28, 28))
    with pytest.raises(ValueError, match=r"expects \(1, 28, 28\) images but .* has \(1, 8, 8\)"):
        next(train_steps(model, tiny_dataset((1, 8, 8)), TrainConfig()))


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_learn_reproducibly_and_keep_float32_weights(tiny_dataset, precision):
    ds = tiny_dataset(n=200)
    config = TrainConfig(epochs=6, batch_size=32, lr=3e-3, precision=precision)
    a, metrics_a = run(ds, config)
    b, metrics_b = run(ds, config)
    assert [m.loss for m in metrics_a] == [m.loss for m in metrics_b]
    ends = [m.test_elbo for m in metrics_a if m.epoch_end]
    assert ends[-1] > ends[0] + 1.0
    assert all(p.dtype == torch.float32 for p in a.parameters())


def test_bf16_and_fp32_reach_similar_elbos(tiny_dataset):
    ds = tiny_dataset(n=200)
    final = {p: [m for m in run(ds, TrainConfig(epochs=6, batch_size=32, lr=3e-3, precision=p))[1] if m.epoch_end][-1]
             for p in ("fp32", "bf16")}
    assert abs(final["fp32"].test_elbo - final["bf16"].test_elbo) < 0.05 * abs(final["fp32"].test_elbo)


def test_precision_is_validated():
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16"):
        TrainConfig(precision="fp8")


def test_measure_speed_times_a_few_steps_and_builds_no_huge_model(tiny_dataset):
    data = tiny_dataset(n=400)
    speed = measure_speed(ModelConfig(latent_dim=2, hidden_dims=(16,)), data, TrainConfig(batch_size=16))
    assert speed is not None and speed > 0
    huge = ModelConfig(latent_dim=2, hidden_dims=(4096, 4096))  # 17M parameters: not built to be timed
    assert measure_speed(huge, tiny_dataset(shape=(1, 32, 32)), TrainConfig()) is None


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_each_optimiser_trains(tiny_dataset, optimizer):
    dataset = tiny_dataset(n=128)
    model = create_model(ModelConfig(hidden_dims=(32,)), dataset.image_shape)
    steps = list(train_steps(model, dataset, TrainConfig(epochs=6, batch_size=32, lr=1e-2, optimizer=optimizer,
                                                         precision="fp32")))
    assert steps[-1].loss < steps[0].loss  # it learns


def test_the_schedule_sets_each_steps_learning_rate(tiny_dataset):
    dataset = tiny_dataset(n=128)

    def rates(schedule: str) -> list[float]:
        model = create_model(ModelConfig(hidden_dims=(16,)), dataset.image_shape)
        config = TrainConfig(epochs=5, batch_size=16, lr=1e-2, schedule=schedule, precision="fp32")
        return [m.lr for m in train_steps(model, dataset, config)]

    constant, cosine, cycle = rates("constant"), rates("cosine"), rates("onecycle")
    assert len(constant) >= 20 and set(constant) == {1e-2}
    assert cosine[0] == 1e-2 and cosine == sorted(cosine, reverse=True) and cosine[-1] < 1e-4
    peak = cycle.index(max(cycle))
    assert cycle[0] < 1e-3 and 0.2 < peak / len(cycle) < 0.4 and max(cycle) == pytest.approx(1e-2, rel=0.05)
    assert cycle[-1] < 1e-4
