"""Aggregation over seeds (mean, standard deviation, a 95 % interval for the mean) and the paired tests
between two methods that ``mubench report --compare`` prints.

Intervals: a benchmark runs few seeds (MU-Bench: 5). A percentile bootstrap of 5 values covers the
true mean only about 85 % of the time at a nominal 95 % (it knows no more spread than the 5 values
show), so means over fewer than :data:`BOOTSTRAP_MIN_N` values get the Student-t interval
mean ± t(n−1, 0.975)·s/√n, which is exact for normal values at any n; the seeded percentile bootstrap
is used only from :data:`BOOTSTRAP_MIN_N` values on, where it needs no normality. Each
:class:`Summary` says which (``interval``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: from this many values on, the interval is the percentile bootstrap; below, Student-t
BOOTSTRAP_MIN_N = 30
#: significance level the Wilcoxon test must be able to reach for its p to be printed
ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for a single value
    ci_low: float
    ci_high: float
    n: int
    #: how the interval was made: "student-t", "bootstrap", or "none" (a single value)
    interval: str = "student-t"


def interval_rule(level: float = 0.95) -> str:
    """One line for reports: which interval a mean over seeds carries."""
    return (f"{level:.0%} interval of each mean: Student-t (mean ± t(n−1)·s/√n) below {BOOTSTRAP_MIN_N} values, "
            f"seeded percentile bootstrap from {BOOTSTRAP_MIN_N} on")


def summarize(values: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95,
              bootstrap_min_n: int = BOOTSTRAP_MIN_N) -> Summary | None:
    """Mean, std and a ``level`` interval of the mean; ``None`` when no finite value exists (a metric
    that was n/a in every seed)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if len(x) == 0:
        return None
    if len(x) == 1:
        return Summary(float(x[0]), 0.0, float(x[0]), float(x[0]), 1, "none")
    mean, std, alpha = float(x.mean()), float(x.std(ddof=1)), (1 - level) / 2
    if len(x) >= bootstrap_min_n:
        rng = np.random.Generator(np.random.PCG64(seed))
        means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(axis=1)
        return Summary(mean, std, float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)), len(x), "bootstrap")
    from scipy import stats

    half = float(stats.t.ppf(1 - alpha, len(x) - 1)) * std / np.sqrt(len(x))
    return Summary(mean, std, mean - half, mean + half, len(x), "student-t")


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
    wilcoxon_p: float | None  # None as well when the test cannot reach p < alpha (see wilcoxon_na)
    #: why there is no Wilcoxon p (too few non-zero differences to ever reach p < alpha, or all zero)
    wilcoxon_na: str | None = None


def wilcoxon_min_p(nonzero: int) -> float:
    """The smallest two-sided p the exact signed-rank test can give with ``nonzero`` non-zero
    differences: every sign the same, 2 / 2^n (5 pairs: 0.0625, never below 0.05)."""
    return min(1.0, 2.0 / 2.0 ** nonzero)


def paired_test(a: Sequence[float], b: Sequence[float], *, alpha: float = ALPHA) -> Paired | None:
    """Paired t-test and Wilcoxon signed-rank test of ``a`` against ``b`` (aligned pairs; a pair with a
    missing or non-finite side is dropped). Two-sided. ``None`` when no complete pair remains.

    The Wilcoxon p is left out (with the reason in ``wilcoxon_na``) when even all-same-sign differences
    could not reach ``alpha``: a p that can never be significant reads as evidence of no difference."""
    from scipy import stats

    pairs = [(x, y) for x, y in zip(a, b, strict=True)
             if x is not None and y is not None and np.isfinite(x) and np.isfinite(y)]
    if not pairs:
        return None
    x, y = np.array(pairs, dtype=float).T
    d = x - y
    t_stat = t_p = w_stat = w_p = w_na = None
    # a constant difference (up to rounding of the values it came from) has no variance: t is undefined
    if len(d) >= 2 and np.ptp(d) > 1e-12 * max(1.0, float(np.abs(d).max())):
        res = stats.ttest_rel(x, y)
        t_stat, t_p = float(res.statistic), float(res.pvalue)
    nonzero = int(np.count_nonzero(d))  # zero_method="wilcox" drops zero differences
    if nonzero == 0:
        w_na = "n/a (every difference is 0)"
    elif wilcoxon_min_p(nonzero) >= alpha:
        w_na = (f"n/a ({nonzero} non-zero pair{'s' if nonzero > 1 else ''} can never reach p < {alpha:g}: "
                f"smallest possible p = {wilcoxon_min_p(nonzero):.4g}; needs ≥ {_pairs_needed(alpha)})")
    else:
        res = stats.wilcoxon(x, y, zero_method="wilcox")
        w_stat, w_p = float(res.statistic), float(res.pvalue)
    return Paired(len(d), float(x.mean()), float(y.mean()), float(d.mean()), t_stat, t_p, w_stat, w_p, w_na)


def _pairs_needed(alpha: float) -> int:
    n = 1
    while wilcoxon_min_p(n) >= alpha:
        n += 1
    return n
