"""The served app's operations hook: SIGUSR1 writes every thread's stack to the log, and the server carries on."""

from __future__ import annotations

import urllib.request


def test_sigusr1_writes_the_threads_stacks_and_the_server_carries_on(server):
    before = server.log_path.read_text()
    server.dump_stacks()
    dumped = server.log_path.read_text()[len(before):]
    assert "Thread 0x" in dumped and "most recent call first" in dumped, dumped[-2000:]
    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as response:
        assert response.read().strip() == b"ok"
