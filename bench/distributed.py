"""Training through torchrun: samples/s of `python -m explorer train` in one process against the same run in N
processes (DDP: gloo on the CPU, nccl with --device cuda), with the same model, data, global batch and epochs.

    python -m bench.distributed [--processes 2] [--epochs 3] [--repeats 2] [--batch-size 128] [--device cpu]

samples/s is the trainer's own figure (training images per second, evaluation excluded), read off each run's last
line; the wall time of each run (start-up, evaluation and saving included) is printed beside it. One process runs
twice: with torch's default threads (all cores) and with one thread, which is what each of torchrun's processes
gets. Prints the ratios. Not a test: it never fails on timing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def train(flags: list[str], processes: int | None, threads: int | None, out: Path) -> tuple[float, float, str]:
    """(samples/s, wall seconds, test ELBO text) of one run in fresh processes: `processes` under torchrun (which
    gives each one thread), or None: plain python, with `threads` (None: torch's default)."""
    if processes:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    else:
        command = [sys.executable]
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    started = time.perf_counter()
    result = subprocess.run([*command, "-m", "explorer", "train", *flags, "--out", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the run failed:\n{result.stderr[-2000:]}")
    last = [line for line in result.stdout.splitlines() if "samples/s" in line][-1]
    speed = float(re.search(r"([\d,]+) samples/s", last).group(1).replace(",", ""))
    elbo = re.search(r"test ELBO (\S+)", last)
    return speed, wall, elbo.group(1) if elbo else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", default="mnist5k")
    parser.add_argument("--model", default="--latent-dim 16", help="model flags, e.g. '--arch conv --latent-dim 16'")
    args = parser.parse_args()
    flags = ["--data", args.data, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
             "--device", args.device, *args.model.split()]
    sides = {"1 process, default threads": (None, None)}
    if args.device == "cpu":
        sides["1 process, 1 thread"] = (None, 1)
    # On one GPU, --processes 1: torchrun's group of one shows what DDP itself costs.
    group = f"torchrun, {args.processes} process{'es' if args.processes > 1 else ''}"
    sides[group] = (args.processes, None)
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
          + f"; explorer train {' '.join(flags)}")
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):  # interleaved, so drift on a shared machine hits every side alike
            for name, (processes, threads) in sides.items():
                results[name].append(train(flags, processes, threads, Path(folder) / f"{repeat}.safetensors"))
    best = {name: max(speed for speed, _, _ in runs) for name, runs in results.items()}
    for name, runs in results.items():
        print(f"  {name:<40} {best[name]:9,.0f} samples/s best  (runs: "
              f"{', '.join(f'{s:,.0f} in {w:.1f} s' for s, w, _ in runs)}; test ELBO {runs[-1][2]})")
    for name in list(sides)[:-1]:
        print(f"  ratio {group} / {name}: {best[group] / best[name]:.2f}x")
    print("  mean wall time per run: " + ", ".join(
        f"{name} {statistics.mean(w for _, w, _ in runs):.1f} s" for name, runs in results.items()))


if __name__ == "__main__":
    main()
