"""Standardized deletion sets: deterministic in any process, nested across ratios, stratified."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mubench_harness.splits import deletion_order, forget_indices, forget_size, retain_indices

STRATA = np.repeat(np.arange(7), [50, 120, 33, 200, 7, 90, 61])  # unbalanced classes, N = 561


def _in_fresh_process(hashseed: str) -> str:
    code = ("import numpy as np, random; random.seed(); np.random.seed(None)\n"
            "from mubench_harness.splits import forget_indices\n"
            "strata = np.repeat(np.arange(7), [50, 120, 33, 200, 7, 90, 61])\n"
            "print(forget_indices(561, 7, 42, [str(s) for s in strata]).tolist())")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                          env={"PYTHONHASHSEED": hashseed, "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}).stdout


def test_same_in_every_process_whatever_the_hash_seed():
    outs = {_in_fresh_process(seed) for seed in ("0", "1", "12345")}
    assert len(outs) == 1
    here = forget_indices(561, 7, 42, [str(s) for s in STRATA]).tolist()
    assert outs.pop().strip() == str(here)


def test_independent_of_global_rng_state():
    np.random.seed(0)
    a = forget_indices(561, 3, 42, STRATA)
    np.random.seed(99)
    np.random.rand(10)
    assert np.array_equal(a, forget_indices(561, 3, 42, STRATA))


@pytest.mark.parametrize("strata", [None, STRATA])
def test_nested_across_ratios(strata):
    sets = [set(forget_indices(561, r, 42, strata).tolist()) for r in range(1, 11)]
    for r in range(9):
        assert sets[r] < sets[r + 1]
    assert [len(s) for s in sets] == [forget_size(561, r) for r in range(1, 11)] == [6, 11, 17, 22, 28, 34, 39, 45, 50, 56]


def test_stratified_within_one_of_proportional():
    counts = np.bincount(STRATA)
    for r in range(1, 11):
        f = forget_indices(561, r, 42, STRATA)
        got = np.bincount(STRATA[f], minlength=7)
        expected = counts * len(f) / len(STRATA)
        assert np.all(np.abs(got - expected) <= 1), (r, got, expected)


def test_split_seed_changes_the_set_and_retain_is_the_complement():
    a, b = forget_indices(561, 10, 42, STRATA), forget_indices(561, 10, 43, STRATA)
    assert not np.array_equal(a, b)
    r = retain_indices(561, a)
    assert len(r) + len(a) == 561 and not set(r) & set(a)
    assert sorted(deletion_order(561, 42)) == list(range(561))


@pytest.mark.parametrize("bad", [0, 11, 2.5, True, "5"])
def test_ratio_outside_1_to_10_is_an_error(bad):
    with pytest.raises(ValueError, match="whole percent from 1 to 10"):
        forget_indices(100, bad)
