"""Aggregation over seeds (mean, standard deviation, seeded percentile-bootstrap 95 % interval) and
the paired tests between two methods that ``mubench report --compare`` prints."""
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


@dataclass(frozen=True)
class Paired:
    """A paired comparison of two methods: differences d = a − b over matched (cell, seed) pairs."""

    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    t_stat: float | None  # paired t-test (scipy.stats.ttest_rel); None below 2 pairs or with constant d
    t_p: float | None
    wilcoxon_stat: float | None  # Wilcoxon signed-rank (scipy.stats.wilcoxon); None when every d is 0
    wilcoxon_p: float | None


def paired_test(a: Sequence[float], b: Sequence[float]) -> Paired | None:
    """Paired t-test and Wilcoxon signed-rank test of ``a`` against ``b`` (aligned pairs; a pair with a
    missing or non-finite side is dropped). Two-sided. ``None`` when no complete pair remains."""
    from scipy import stats

    pairs = [(x, y) for x, y in zip(a, b, strict=True)
             if x is not None and y is not None and np.isfinite(x) and np.isfinite(y)]
    if not pairs:
        return None
    x, y = np.array(pairs, dtype=float).T
    d = x - y
    t_stat = t_p = w_stat = w_p = None
    # a constant difference (up to rounding of the values it came from) has no variance: t is undefined
    if len(d) >= 2 and np.ptp(d) > 1e-12 * max(1.0, float(np.abs(d).max())):
        res = stats.ttest_rel(x, y)
        t_stat, t_p = float(res.statistic), float(res.pvalue)
    if np.any(d != 0):
        res = stats.wilcoxon(x, y, zero_method="wilcox")
        w_stat, w_p = float(res.statistic), float(res.pvalue)
    return Paired(len(d), float(x.mean()), float(y.mean()), float(d.mean()), t_stat, t_p, w_stat, w_p)
