"""RMIA (Zarifzadeh et al., ICML 2024), offline, with the retrained model(s) as OUT reference models."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric
from .common import auc, check_aligned, column, nonmember_halves


def rmia_scores(p_target: np.ndarray, p_out: np.ndarray, z_target: np.ndarray, z_out: np.ndarray, *,
                a: float = 0.3, gamma: float = 1.0) -> np.ndarray:
    """Offline RMIA score of each x: the share of population samples z with
    (Pr(x|θ)/Pr(x)) / (Pr(z|θ)/Pr(z)) > γ, where Pr(·) ≈ ½[(1+a)·Pr_OUT(·) + (1−a)].

    ``p_target``/``z_target``: Pr(·|θ) of the target model on x / z; ``p_out``/``z_out``: the mean over
    OUT models of Pr(·|θ_out). Pr(·) ≥ (1−a)/2 > 0, so every ratio is finite; ties at γ do not count.
    """
    prior_x = 0.5 * ((1 + a) * p_out + (1 - a))
    prior_z = 0.5 * ((1 + a) * z_out + (1 - a))
    ratio_x = p_target / prior_x
    ratio_z = np.sort(z_target / prior_z)
    # ratio_x / ratio_z > γ  ⇔  ratio_z < ratio_x / γ (ratio_z ≥ 0): count with one sorted search
    return np.searchsorted(ratio_z, ratio_x / gamma, side="left") / len(ratio_z)


class RMIA(Metric):
    """``rmia/auc`` = AUC of the RMIA score of Df (positives) vs the evaluation half of the test set,
    with the population z = the calibration half (disjoint from the evaluated non-members) and
    Pr(·|θ) = the true-label probability (sequences: exp of the mean token log-probability). OUT models
    = the cell's retrained model plus any ``out_models``; n/a without a retrain. Retrained models saw Dr,
    so only Df vs held-out non-members can be scored. Closer to the retrained model's value is better."""

    def compute(self, ev: Evaluation):
        na = ev.membership_na(["rmia/auc"])
        if na is not None:
            return na
        outs = ([ev.retrain] if ev.retrain is not None else []) + list(ev.out_models)
        if not outs:
            return {"rmia/auc": ev.not_applicable("rmia/auc", "n/a (no retrained reference model in this benchmark)")}
        for ref in outs:
            check_aligned(ev.signals["test"], ref["test"], split="test")
            check_aligned(ev.signals["forget"], ref["forget"], split="forget")
        calibration, evaluation = nonmember_halves(ev)
        if len(calibration) == 0 or len(evaluation) == 0:
            return {"rmia/auc": ev.not_applicable("rmia/auc", "n/a (test set too small to split)")}
        p = lambda sig: column(sig, "p_true", nan=0.0)  # noqa: E731
        out_forget = np.mean([p(ref["forget"]) for ref in outs], axis=0)
        out_test = np.mean([p(ref["test"]) for ref in outs], axis=0)
        target_test = p(ev.signals["test"])
        z_target, z_out = target_test[calibration], out_test[calibration]
        kw = dict(a=self.args.a, gamma=self.args.gamma)
        forget_scores = rmia_scores(p(ev.signals["forget"]), out_forget, z_target, z_out, **kw)
        nonmember_scores = rmia_scores(target_test[evaluation], out_test[evaluation], z_target, z_out, **kw)
        return {"rmia/auc": auc(forget_scores, nonmember_scores)}
