"""Training over several processes started by torchrun: who this process is, its device and backend, its share of
each batch, and what the processes agree on (each step's metrics, a failure, a stop)."""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import time
from dataclasses import dataclass
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from explorer.runtime import resolve_device

# What torchrun (and any launcher following its conventions) sets in every process it starts.
LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class RunBroken(RuntimeError):
    """Another process of the run died, became unreachable, or the launcher stopped this one."""


class Quiet(Exception):
    """This process failed together with others; the first process that failed reports it, this one stays quiet."""


def launched() -> bool:
    """Whether torchrun started this process as one of a group."""
    return all(name in os.environ for name in LAUNCH_VARIABLES)


def is_leader() -> bool:
    """Rank 0 (or no group at all): the process that speaks for the run."""
    return not launched() or os.environ["RANK"] == "0"


@dataclass(frozen=True)
class Group:
    """This process's place in the run."""

    rank: int
    world_size: int
    local_rank: int  # its index on this machine: which GPU it takes
    backend: str  # "nccl" when the run's tensors live on GPUs, else "gloo"

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def device(self, name: str) -> torch.device:
        """The device this process trains on: one GPU per process on a machine (by local rank), or the CPU."""
        device = resolve_device(name)
        if device.type != "cuda":
            return device
        count = torch.cuda.device_count()
        if self.local_rank >= count:
            raise ValueError(f"process {self.local_rank} on this machine has no GPU of its own (it has {count}); "
                             f"start at most {count} per machine (--nproc_per_node {count}).")
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> DistributedDataParallel:
        """The model under DDP, whose backward pass averages the processes' gradients."""
        # Buffers (a fixed decoder std) never change, so re-sending rank 0's before every step would be wasted.
        # (torch 2.13 renamed the switch; the old name still works there, with a warning.)
        names = inspect.signature(DistributedDataParallel).parameters
        sync = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                       **{sync: False})

    def average(self, stats: torch.Tensor, images: int, batch: int, stopping: bool) -> tuple[torch.Tensor, bool]:
        """Per-image means over this process's `images` -> means over the whole batch, the same on every process,
        and whether any process was asked to stop. A NaN on one process becomes a NaN on all, so they all end
        at the same step."""
        packed = torch.cat([stats * images, stats.new_tensor([float(stopping)])])
        dist.all_reduce(packed)
        return packed[:-1] / batch, bool(packed[-1] > 0)

    def describe(self, batch_size: int, device: torch.device) -> str:
        """The line a distributed run prints first."""
        low, high = batch_size // self.world_size, -(-batch_size // self.world_size)
        each = f"{low}" if low == high else f"{low}-{high}"
        processes = f"{self.world_size} process{'es' if self.world_size > 1 else ''}"
        return (f"training distributed over {processes} ({self.backend} backend, {device.type}); "
                f"--batch-size {batch_size} is the global batch: {each} images per process per step")


def share(batch_size: int, rank: int, world_size: int) -> tuple[slice, float]:
    """This process's positions in a global batch, and the weight of its mean loss.

    DDP averages the processes' gradients with equal weights; weighting each process's mean by
    world_size * (its images / the batch's) makes that average the gradient of the whole batch's mean, as in one
    process. A process left with no images (a last batch smaller than the group) steps on one image at weight
    0: every process must run each backward pass for DDP's collectives to meet.
    """
    mine = len(range(rank, batch_size, world_size))  # strided: the shares differ by at most one image
    if mine == 0:
        return slice(0, 1), 0.0
    return slice(rank, None, world_size), mine * world_size / batch_size


def join(device_name: str) -> Group:
    """Join the run torchrun started, and turn its stop signal into RunBroken."""
    cuda = torch.cuda.is_available() and device_name in ("auto", "cuda")
    # nccl carries the GPU tensors; gloo every CPU tensor, including the small messages agreeing on a failure.
    dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
    group = Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")),
                  "nccl" if cuda else "gloo")

    def stopped(signum, frame):
        # torchrun sends SIGTERM to the survivors when one process fails; so does a batch scheduler cancelling the job.
        raise RunBroken(f"process {group.rank} of {group.world_size} was stopped by its launcher: another process of "
                        "the run ended, or the job was cancelled. Nothing was written.")

    signal.signal(signal.SIGTERM, stopped)
    return group


def leave() -> None:
    """Leave the process group after a run that ended well, once every process is done (the leader writes)."""
    _meet()
    dist.destroy_process_group()


def _meet() -> None:
    """Wait until every process has got here: the same collective after a run that ended well (leave) and after
    a failure (part), so a leader that fails after training still meets the others."""
    token = torch.zeros(1)  # a CPU tensor: over gloo, in every run
    dist.all_reduce(token)
    # gloo's worker thread lets go of the tensor just after the collective completes, and takes the GIL to do so:
    # in an interpreter already shutting down that aborts the process ("terminate called without an active
    # exception"). DDP keeps the group, and so its threads, alive past destroy_process_group: wait for it here.
    deadline = time.monotonic() + 10
    while token._use_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.001)


def part() -> None:
    """After a failure: wait until every process has got here, so the one that reports it has done so before any
    exits (torchrun stops the others as soon as one exits with an error)."""
    if not dist.is_initialized():
        return
    try:
        _meet()
    except RuntimeError:
        pass  # a process already gone: nobody left to wait for
    hush()


def hush() -> None:
    """Said and done: from now on, a stop from the launcher ends this process without a second message."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def together(group: Group | None) -> Iterator[None]:
    """Every process runs the block; if it fails on any (a ValueError or OSError: bad input), all of them stop, and
    only the first process that failed reports why (the others raise Quiet): one message, not one per process."""
    failure = None
    try:
        yield
    except (ValueError, OSError) as error:
        if group is None:
            raise
        failure = error
    if group is None:
        return
    failed = torch.zeros(group.world_size)
    failed[group.rank] = failure is not None
    dist.all_reduce(failed)
    if failed.any():
        if group.rank == int(failed.nonzero()[0]):
            raise failure
        raise Quiet()


@contextlib.contextmanager
def watching(group: Group | None) -> Iterator[None]:
    """A collective that fails because another process died (gloo's connection reset, an NCCL error) leaves as
    RunBroken, in words."""
    try:
        yield
    except RuntimeError as error:
        if group is None or isinstance(error, RunBroken) or not _from_collective(error):
            raise
        raise RunBroken(f"process {group.rank} of {group.world_size} lost contact with the others: one of them ended "
                        "or its machine is unreachable. Nothing was written.") from error


def _from_collective(error: RuntimeError) -> bool:
    text = str(error)
    return isinstance(error, dist.DistError) or any(word in text for word in ("gloo", "NCCL", "Connection"))
