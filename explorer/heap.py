"""The C heap of a long-lived server process (glibc's malloc): how it is laid out, and handing back what is free.

torch and numpy allocate their arrays through malloc. By default glibc gives each busy thread its own
arena (up to 8 per core) and raises its mmap threshold to the size of any large block once freed, so a data set's
or a decoded batch's memory is later served from those arenas, where a few live blocks pin the free pages around
them. A server whose visitors come and go then keeps hundreds of MB it does not use.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # mallopt's parameters (malloc.h)
ARENAS = 2  # one per core here; more arenas only spread the same free memory across more heaps
MMAP_FROM_BYTES = 16 * 2**20  # blocks from this size are mapped on their own and returned whole when freed;
# smaller thresholds put a conv model's per-step activations on mmap too, and its training steps slow down


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None  # not glibc: its defaults are not ours to tune


def configure() -> None:
    """Fix the number of arenas and the mmap threshold (setting it stops glibc raising it): call once, early,
    before the server's threads start."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES)


def trim() -> None:
    """Hand freed heap memory back to the system: what a training run's threads freed stays in their arenas
    until trimmed."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
