"""What a model costs, from its architecture: the budgets refuse a model or a run from these numbers before any of
its memory is allocated, so they must not undercount what a real decode or training step holds."""

from __future__ import annotations

import re
import threading
import time

import pytest
import torch

from explorer.budget import (MB, PER_VISITOR_BYTES, WORK_BYTES, WorkPool, batches_of, refusal, run_refusal)
from explorer.config import ModelConfig
from explorer.cost import model_cost
from explorer.model import create_model

# The hostile pass's heavy upload: 256x256 RGB, conv channels 512, 384, 8 (about 100 MB per decoded image).
HEAVY = (ModelConfig(arch="conv", conv_channels=(512, 384, 8)), (3, 256, 256))


def test_parameters_and_multiply_adds_of_a_dense_model():
    config = ModelConfig(latent_dim=2, hidden_dims=(16, 8))
    cost = model_cost(config, (1, 4, 4))
    model = create_model(config, (1, 4, 4))
    assert cost.parameters == sum(p.numel() for p in model.parameters())
    assert cost.decode_macs == 2 * 8 + 8 * 16 + 16 * 16  # the decoder's three dense layers
    assert cost.run_bytes(10) == cost.parameters * 16 + 10 * cost.step_bytes


def _peak_mb(step) -> float:
    """The process's peak resident memory rise while `step` runs (VmHWM; reset first where the kernel allows)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pytest.skip("cannot reset the peak RSS here")

    def read():
        return int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024

    before = read()
    step()
    return read() - before


@pytest.mark.parametrize("config, shape, batch", [
    (ModelConfig(), (1, 28, 28), 2000),
    (ModelConfig(arch="conv", conv_channels=(64, 32)), (3, 64, 64), 64),
])
def test_a_decode_and_a_training_step_hold_no_more_than_counted(config, shape, batch):
    cost = model_cost(config, shape)
    model = create_model(config, shape)
    z, x = torch.zeros(batch, config.latent_dim), torch.rand(batch, *shape)
    decoded = _peak_mb(lambda: model.decode(z))

    def step():
        out = model(x)
        (out.recon_logits.sum() + out.mu.sum()).backward()

    trained = _peak_mb(step)
    assert decoded <= batch * cost.decode_bytes / MB + 8  # 8 MB: the allocator's own slack
    assert trained <= batch * cost.step_bytes / MB + 8


def test_the_hostile_heavy_model_is_refused_and_the_bundled_ones_are_not():
    reason = refusal(model_cost(*HEAVY))
    assert reason and "multiply-adds" in reason
    assert refusal(model_cost(ModelConfig(), (1, 28, 28))) is None
    assert refusal(model_cost(ModelConfig(arch="conv"), (1, 28, 28), 10)) is None
    wide = model_cost(ModelConfig(), (3, 256, 256))  # a dense model of 256x256 RGB: 200 M weights
    assert "weights" in refusal(wide)


def test_a_run_is_refused_by_its_memory_and_told_the_batch_that_fits():
    cost = model_cost(ModelConfig(arch="conv", conv_channels=(32, 64, 64, 64)), (3, 128, 128))
    assert run_refusal(cost, 16) is None
    reason = run_refusal(cost, 8192)
    fits = int(re.search(r"batch size of ([\d,]+) or less", reason).group(1).replace(",", ""))
    assert run_refusal(cost, fits) is None and run_refusal(cost, fits + 1) is not None
    assert cost.run_bytes(fits) <= PER_VISITOR_BYTES


def test_batches_fit_the_work_budget():
    config, shape = ModelConfig(arch="conv", conv_channels=(64, 32)), (3, 128, 128)
    model = create_model(config, shape)
    with batches_of(model, 1000) as size:
        assert 1 <= size < 1000 and size * model_cost(config, shape).decode_bytes <= WORK_BYTES
    with batches_of(create_model(ModelConfig(), (1, 28, 28)), 1000) as size:
        assert size == 1000


def test_the_pool_makes_work_wait_its_turn_and_gives_up_with_a_message():
    pool, order = WorkPool(total=100), []

    def second():
        with pool.use(60):
            order.append("second")

    with pool.use(60):
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.2)
        order.append("first")
        with pytest.raises(ValueError, match="busy"):
            with pool.use(60, wait_s=0.05):
                pass
    waiting.join(5)
    assert order == ["first", "second"] and pool.used == 0
    with pool.use(500):  # larger than the pool: runs alone rather than never
        assert pool.used == 500


def test_a_run_drawing_z_several_times_per_image_counts_each_draw():
    cost = model_cost(ModelConfig(arch="conv", conv_channels=(32, 64, 64, 64)), (3, 128, 128))
    assert cost.run_bytes(16, draws=5) - cost.run_bytes(0) == 5 * (cost.run_bytes(16) - cost.run_bytes(0))
    reason = run_refusal(cost, 8192, draws=5)
    fits = int(re.search(r"batch size of ([\d,]+) or less", reason).group(1).replace(",", ""))
    assert run_refusal(cost, fits, draws=5) is None and run_refusal(cost, fits + 1, draws=5) is not None
