"""How a run moves the weights: the optimiser and the learning-rate schedule its settings name (TrainConfig)."""

from __future__ import annotations

import torch

from explorer.config import ADAMW_DECAY, ONE_CYCLE_WARM, SGD_MOMENTUM


def optimizer_for(parameters, config) -> torch.optim.Optimizer:
    """The optimiser the settings name, at their learning rate."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=SGD_MOMENTUM)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=ADAMW_DECAY, fused=True)
    # Fused Adam: one kernel per step instead of several per tensor.
    return torch.optim.Adam(parameters, lr=config.lr, fused=True)


def schedule_for(optimizer: torch.optim.Optimizer, config, total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning rate over the run's steps: constant, cosine down to 0, or one-cycle (up, then down)."""
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps))
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(2, total_steps),
                                                   pct_start=ONE_CYCLE_WARM)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
