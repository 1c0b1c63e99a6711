"""Memory budgets: who lets go of what, and a ledger that two visitors cannot overfill together."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from explorer.budget import MB, Ledger, evictions, nbytes
from explorer.checkpoint import checkpoint_bytes, load_checkpoint
from explorer.config import ModelConfig
from explorer.data import make_dataset
from explorer.model import create_model


def test_sizes_of_data_sets_and_models():
    ds = make_dataset("d", np.zeros((100, 8, 8), np.uint8))
    assert nbytes(ds) == 100 * 64 + ds.train_index.nbytes + ds.test_index.nbytes
    checkpoint = load_checkpoint(checkpoint_bytes(create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8)),
                                                  dataset="d"))
    weights = sum(p.numel() * 4 for p in checkpoint.model.parameters())
    assert nbytes(checkpoint) >= len(checkpoint.payload) + weights


def test_the_oldest_are_let_go_until_the_new_one_fits():
    held = [("a", 40 * MB), ("b", 40 * MB), ("c", 40 * MB)]
    assert evictions(held, 10 * MB, per_visitor=200 * MB, room=1000 * MB) == []
    assert evictions(held, 60 * MB, per_visitor=150 * MB, room=1000 * MB) == ["a"]
    assert evictions(held, 100 * MB, per_visitor=150 * MB, room=1000 * MB) == ["a", "b"]
    assert evictions(held, 100 * MB, per_visitor=1000 * MB, room=150 * MB) == ["a", "b"]  # the server's room


def test_what_cannot_fit_at_all_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"needs 300 MB in memory; each visitor can keep 200 MB"):
        evictions([], 300 * MB, per_visitor=200 * MB, room=1000 * MB)
    with pytest.raises(ValueError, match=r"holding as much as it can for its visitors right now"):
        evictions([], 100 * MB, per_visitor=200 * MB, room=50 * MB)


def test_the_ledger_counts_each_visitor_once_and_releases_them():
    ledger = Ledger(total=100)
    assert ledger.admit("v1", [], 60, per_visitor=80) == []
    assert ledger.admit("v1", [("x", 60)], 30, per_visitor=80) == ["x"]  # over v1's own budget: x goes
    assert ledger.held() == 30
    with pytest.raises(ValueError, match="holding as much as it can"):
        ledger.admit("v2", [], 80, per_visitor=80)
    ledger.release("v1")
    assert ledger.admit("v2", [], 80, per_visitor=80) == [] and ledger.held() == 80


def test_two_visitors_cannot_both_take_the_last_room():
    ledger, start, refused = Ledger(total=100), threading.Barrier(8), []

    def visit(i):
        start.wait()
        try:
            ledger.admit(f"v{i}", [], 30, per_visitor=100)
        except ValueError:
            refused.append(i)

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == 5 and ledger.held() == 90


def test_the_shared_cache_is_bounded_in_bytes_and_empties_when_unused():

    from explorer.budget import SizedCache

    emptied = threading.Event()
    cache = SizedCache(limit=250_000, idle_s=0.4, on_empty=emptied.set)
    data = {name: make_dataset(name, np.zeros((1000, 10, 10), np.uint8)) for name in "abc"}  # ~100 KB each
    made = []

    def get(name):
        return cache.get(name, lambda: made.append(name) or data[name])

    get("a"), get("b"), get("a"), get("c")  # c pushes out the least recently used: b
    assert made == ["a", "b", "c"] and cache.held() <= 250_000
    get("a")
    assert made == ["a", "b", "c"]  # still there
    get("b")
    assert made[-1] == "b"
    assert emptied.wait(3) and cache.held() == 0  # nobody used them for idle_s: all let go, the heap trimmed
    get("a")
    assert made[-1] == "a"


def test_what_may_not_let_go_is_refused_and_leaves_the_ledger_as_it_was():
    from explorer.budget import NeedsRoom

    ledger = Ledger(total=1000 * MB)
    held = [("upload", 100 * MB)]
    ledger.admit("v", held, 0, per_visitor=150 * MB)
    with pytest.raises(NeedsRoom):  # a run of 80 MB fits only if the upload goes, and a run lets nothing go
        ledger.admit("v", held, 0, per_visitor=150 * MB, fixed=80 * MB, evict=False)
    assert ledger.held() == 100 * MB
    assert ledger.admit("v", held, 0, per_visitor=150 * MB, fixed=40 * MB, evict=False) == []
    assert ledger.held() == 140 * MB
