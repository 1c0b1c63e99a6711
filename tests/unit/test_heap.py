"""explorer.heap: the server's malloc settings, checked in fresh processes (they are process-wide)."""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ctypes")
if not sys.platform.startswith("linux"):
    pytest.skip("glibc's malloc only", allow_module_level=True)

PROBE = textwrap.dedent("""
    import ctypes, sys, threading
    import numpy as np
    from explorer import heap

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    if sys.argv[1] == "configured":
        heap.configure()
    big = np.ones(24 * 2**20, np.uint8); del big  # glibc by default then serves blocks up to 24 MB from its arenas
    block = np.ones(20 * 2**20, np.uint8)
    mapped = libc.mallinfo2().hblkhd >= 20 * 2**20

    def busy():
        for _ in range(200):
            np.ones(4096).sum()
    threads = [threading.Thread(target=busy) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(mapped, flush=True)
    libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
""")


def _probe(mode: str) -> tuple[bool, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip() == "True", done.stderr.count("Arena ")


def test_configure_maps_large_blocks_on_their_own_and_caps_the_arenas():
    mapped, arenas = _probe("configured")
    assert mapped  # a 20 MB block is its own mapping, returned whole when freed, even after a 24 MB one was freed
    assert arenas <= 2
    default_mapped, _ = _probe("default")
    assert not default_mapped  # the control: glibc's raised threshold puts the same block in an arena


def test_trim_runs_anywhere():
    from explorer import heap

    heap.trim()  # a no-op where there is no glibc, never an error
