"""Seeds and devices, each set in one place."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a run with the same seed repeats exactly (on the same device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU; asking for CUDA without one is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use 'cpu' or 'auto'.")
    return torch.device(name)


def configure_threads(default: int = 1) -> int:
    """Set torch's intra-op threads for the whole process ($EXPLORER_TORCH_THREADS, else `default`).

    The app runs several trainings and page renders at once: with 2 threads each, one busy core stalls every
    parallel op, while with 1 thread each they keep going (bench/train_throughput.py).
    """
    try:
        threads = max(1, int(os.environ.get("EXPLORER_TORCH_THREADS", default)))
    except ValueError:
        threads = default
    torch.set_num_threads(threads)
    return threads


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether training autocasts to bfloat16: asked for, or "auto" on a CPU with native bf16 (AVX512-BF16/AMX),
    where oneDNN's bf16 matmuls make a step faster while weights, loss and optimiser state stay float32."""
    if precision == "fp32":
        return False
    if precision == "bf16":
        return True
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
