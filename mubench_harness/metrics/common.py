"""Statistics shared by the metric families: seeded samples, the test-set halves, AUC, TPR at FPR.

Every random choice a metric makes is drawn from a generator seeded by the cell's seed and a fixed
salt per use, so two methods evaluated in the same (task, model, scale, ratio, seed) cell see the
same samples and the same halves: their values are paired, and the retrained model's value printed
beside is computed on exactly the same rows.
"""
from __future__ import annotations

import zlib

import numpy as np
from sklearn.metrics import roc_auc_score

from . import Evaluation, Signals


def generator(ev: Evaluation, salt: str) -> np.random.Generator:
    """A generator for one named use in one cell (the salt keeps uses independent of each other)."""
    return np.random.Generator(np.random.PCG64([ev.seed, zlib.crc32(salt.encode())]))


def sample(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``min(k, n)`` of ``n`` rows without replacement."""
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split ``n`` rows in two disjoint random halves (calibration, evaluation)."""
    order = rng.permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])


def nonmember_halves(ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """The test set split once per cell into a calibration half (thresholds; RMIA's population) and an
    evaluation half (the non-members every attack is scored against)."""
    return halves(len(ev.original["test"]["loss"]), generator(ev, "test-halves"))


def column(sig: Signals, name: str, *, nan: float) -> np.ndarray:
    """A signal as float64 with non-finite values made finite: a diverged model (NaN/inf loss) must
    still be scored, and scikit-learn rejects non-finite inputs. ``nan`` says which side NaN goes."""
    x = np.asarray(sig[name], dtype=np.float64)
    big = np.finfo(np.float64).max / 4
    return np.nan_to_num(x, nan=nan, posinf=big, neginf=-big)


def attack_score(sig: Signals) -> np.ndarray:
    """The loss attack's membership score, −loss (NaN loss counts as an infinitely bad fit)."""
    return -column(sig, "loss", nan=np.finfo(np.float64).max / 4)


def check_aligned(*sigs: Signals, split: str) -> None:
    """Signals of different models on one split must hold the same rows in the same order."""
    ref = sigs[0].get("idx")
    for sig in sigs[1:]:
        if ref is not None and sig.get("idx") is not None and not np.array_equal(ref, sig["idx"]):
            raise ValueError(f"signals on split {split!r} are not aligned across models (different rows or order)")


def auc(positives: np.ndarray, negatives: np.ndarray) -> float | None:
    """Area under the ROC curve of ``positives`` (label 1) against ``negatives`` (label 0); ties count
    one half. ``None`` when either side is empty."""
    if len(positives) == 0 or len(negatives) == 0:
        return None
    y = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    return float(roc_auc_score(y, np.r_[positives, negatives]))


def min_negatives(fpr: float) -> int:
    """Evaluation non-members needed before a TPR at ``fpr`` means anything: 10 / FPR (so at least ten
    false positives are expected at the threshold)."""
    return int(round(10 / fpr))


def threshold_at_fpr(calibration: np.ndarray, fpr: float) -> float:
    """The smallest threshold t with share(calibration > t) ≤ fpr: the (k+1)-th largest calibration
    score, k = ⌊fpr · n⌋ (ties at t only lower the share)."""
    ordered = np.sort(calibration)[::-1]
    k = int(np.floor(fpr * len(ordered) + 1e-9))
    return float(ordered[min(k, len(ordered) - 1)])


def tpr_at_fpr(positives: np.ndarray, calibration: np.ndarray, evaluation: np.ndarray, fpr: float):
    """TPR of ``positives`` and the realised FPR on ``evaluation`` at the threshold that ``calibration``
    (other non-members) sets for ``fpr``; score > threshold predicts member. ``None`` when there are fewer
    than :func:`min_negatives` evaluation or calibration non-members."""
    need = min_negatives(fpr)
    if len(evaluation) < need or len(calibration) < need or len(positives) == 0:
        return None
    t = threshold_at_fpr(calibration, fpr)
    return float(np.mean(positives > t)), float(np.mean(evaluation > t))


def fpr_label(fpr: float) -> str:
    """``0.01`` → ``"1%"``, ``0.001`` → ``"0.1%"`` (value names like ``tpr@1%fpr``)."""
    return f"{fpr * 100:g}%"


def attack_names(prefix: str, fprs, suffix: str = "") -> list[str]:
    """The value names :func:`attack_values` returns."""
    names = [f"{prefix}/auc{suffix}"]
    for fpr in fprs:
        names += [f"{prefix}/tpr@{fpr_label(fpr)}fpr{suffix}", f"{prefix}/fpr@{fpr_label(fpr)}fpr{suffix}"]
    return names


def attack_values(prefix: str, ev: Evaluation, positives: np.ndarray, calibration: np.ndarray,
                  evaluation: np.ndarray, fprs, suffix: str = "") -> dict[str, float | None]:
    """AUC and TPR (with the realised FPR) at each target FPR for one attack score; value names are
    ``{prefix}/auc{suffix}``, ``{prefix}/tpr@1%fpr{suffix}``, ``{prefix}/fpr@1%fpr{suffix}``."""
    out: dict[str, float | None] = {f"{prefix}/auc{suffix}": auc(positives, evaluation)}
    for fpr in fprs:
        tpr_name, fpr_name = f"{prefix}/tpr@{fpr_label(fpr)}fpr{suffix}", f"{prefix}/fpr@{fpr_label(fpr)}fpr{suffix}"
        got = tpr_at_fpr(positives, calibration, evaluation, fpr)
        if got is None:
            reason = (f"n/a (too few non-members: {min(len(calibration), len(evaluation))} per half, "
                      f"{min_negatives(fpr)} needed for FPR {fpr_label(fpr)})")
            out[tpr_name] = ev.not_applicable(tpr_name, reason)
            out[fpr_name] = ev.not_applicable(fpr_name, reason)
        else:
            out[tpr_name], out[fpr_name] = got
    return out
