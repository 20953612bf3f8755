"""Aggregation over seeds: mean, standard deviation and a seeded percentile-bootstrap 95 % interval."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for a single value
    ci_low: float
    ci_high: float
    n: int


def summarize(values: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95) -> Summary | None:
    """``None`` when no finite value exists (a metric that was n/a in every seed)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return None
    if len(x) == 1:
        return Summary(float(x[0]), 0.0, float(x[0]), float(x[0]), 1)
    rng = np.random.Generator(np.random.PCG64(seed))
    means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(axis=1)
    alpha = (1 - level) / 2
    return Summary(float(x.mean()), float(x.std(ddof=1)), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)), len(x))
