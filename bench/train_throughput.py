"""Training throughput: this project's trainer (live metrics on, as the app runs it) against the canonical
PyTorch VAE example loop (pytorch/examples vae/main.py), on the same model, batch and data (MNIST-5k train split).

    python -m bench.train_throughput [--epochs 10] [--repeats 3]

Prints samples/s of each (best and median of the repeats) and their ratios. Not a test: it never fails on timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.job import TrainingJob


class ExampleVAE(nn.Module):
    """pytorch/examples vae/main.py, as written there: 784-400-20 MLP."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def example_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def peer_samples_per_s(images: torch.Tensor, epochs: int) -> float:
    """The example's train() loop: DataLoader over a TensorDataset, loss.item() accumulated every step."""
    torch.manual_seed(1)
    model = ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(images, torch.zeros(len(images))), batch_size=128, shuffle=True)
    started, seen = time.perf_counter(), 0
    for _ in range(epochs):
        model.train()
        train_loss = 0.0
        for data, _ in loader:
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = example_loss(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            seen += len(data)
    return seen / (time.perf_counter() - started)


def ours_samples_per_s(dataset, epochs: int, precision: str = "auto") -> float:
    """This project's trainer as the app runs it: a TrainingJob thread collecting every step's metrics,
    refreshing reconstructions and encoding an epoch snapshot; timed wall-clock, all of that included."""
    job = TrainingJob(dataset, ModelConfig(arch="mlp", latent_dim=20, hidden_dims=(400,)),
                      TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=1, precision=precision))
    started = time.perf_counter()
    job.start().join()
    elapsed = time.perf_counter() - started
    return epochs * len(dataset.train_index) / elapsed


def one(side: str, epochs: int, threads: int) -> float:
    """One measurement in this (fresh) process."""
    torch.set_num_threads(threads)
    # The first optimiser in a process imports torch._dynamo (~1.7 s here): pay it before timing either side.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    dataset = load_dataset("mnist5k")
    if side == "peer":
        return peer_samples_per_s(torch.from_numpy(dataset.pixels(dataset.train_index)), epochs)
    return ours_samples_per_s(dataset, epochs, "fp32" if side == "ours-fp32" else "auto")


def measure(side: str, epochs: int, threads: int) -> float:
    """A fresh process per measurement: no thread pool or allocator state carries over between the two sides."""
    out = subprocess.run([sys.executable, "-m", "bench.train_throughput", "--one", side, "--epochs", str(epochs),
                          "--threads", str(threads)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--one", choices=("peer", "ours", "ours-fp32"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(one(args.one, args.epochs, args.threads))
        return
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, bf16 autocast available: "
          f"{bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}")
    for threads in sorted({args.threads, 1}, reverse=True):
        peer, ours, fp32 = [], [], []
        for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
            peer.append(measure("peer", args.epochs, threads))
            ours.append(measure("ours", args.epochs, threads))
            fp32.append(measure("ours-fp32", args.epochs, threads))
        note = "" if threads == args.threads else " (the app's setting: one thread per run)"
        print(f"{threads} torch thread(s){note}:")
        print(f"  peer (pytorch/examples VAE loop, DataLoader): {max(peer):9,.0f} samples/s  "
              f"(runs: {', '.join(f'{p:,.0f}' for p in peer)})")
        print(f"  ours (explorer TrainingJob, live metrics on): {max(ours):9,.0f} samples/s  "
              f"(runs: {', '.join(f'{o:,.0f}' for o in ours)})")
        print(f"  ours with --precision fp32 (no bf16 autocast): {statistics.median(fp32):9,.0f} samples/s median "
              f"({statistics.median(fp32) / statistics.median(peer):.2f}x the peer's median)")
        print(f"  ratio ours/peer at {threads} thread(s): {max(ours) / max(peer):.2f}x best against best, "
              f"{statistics.median(ours) / statistics.median(peer):.2f}x median against median  (target >= 1.3x)")


if __name__ == "__main__":
    main()
