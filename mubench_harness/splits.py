"""Standardized deletion sets: Df for (task, split seed, ratio) is the same in every process and on
every machine, nested across ratios, and class-stratified for classification.

One global order of the training set is drawn from the split seed alone (numpy's PCG64, which is
platform-independent; nothing depends on ``PYTHONHASHSEED`` or global RNG state). Df at r % is the
first round(r % · N) samples of that order, so Df(r %) ⊂ Df(r+1 %) by construction. Stratification
comes from the order itself: each class's samples are spread evenly along it (a sample of rank k
in its class of size n sits at (k + ½)/n), so every prefix holds each class in proportion ±1.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RATIOS = tuple(range(1, 11))  # percent


def deletion_order(n: int, split_seed: int, strata: Sequence | None = None) -> np.ndarray:
    """Positions 0..n-1 in deletion order."""
    rng = np.random.Generator(np.random.PCG64(split_seed))
    tiebreak = rng.permutation(n)
    if strata is None:
        return tiebreak
    strata = np.asarray(strata)
    key = np.empty(n, dtype=np.float64)
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        members = members[np.argsort(tiebreak[members], kind="stable")]  # random order within the class
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((tiebreak, key))


def check_ratio(ratio: int) -> int:
    if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio not in RATIOS:
        raise ValueError(f"deletion ratio must be a whole percent from 1 to 10, got {ratio!r}")
    return ratio


def forget_size(n: int, ratio: int) -> int:
    return max(1, int(round(n * check_ratio(ratio) / 100)))


def forget_indices(n: int, ratio: int, split_seed: int = 42, strata: Sequence | None = None) -> np.ndarray:
    """Sorted training-set positions of Df at ``ratio`` percent."""
    order = deletion_order(n, split_seed, strata)
    return np.sort(order[: forget_size(n, ratio)])


def retain_indices(n: int, forget: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[forget] = False
    return np.flatnonzero(mask)
