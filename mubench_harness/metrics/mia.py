"""Membership-inference attacks on the unlearned model: MIA-efficacy (SVC), the loss attack, and the
loss attack turned on the retained data (retain-set privacy)."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric
from .common import attack_names, attack_score, attack_values, check_aligned, column, generator, nonmember_halves, sample


def svc_efficacy(members: np.ndarray, nonmembers: np.ndarray, target: np.ndarray, *, C: float = 3.0) -> float:
    """Fit SVC(kernel="rbf", C, gamma="auto") on one feature, members (label 1) vs non-members (label
    0), and return the share of ``target`` predicted non-member."""
    from sklearn.svm import SVC

    x = np.r_[members, nonmembers].reshape(-1, 1)
    y = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
    clf = SVC(kernel="rbf", C=C, gamma="auto").fit(x, y)
    return float(np.mean(clf.predict(np.asarray(target).reshape(-1, 1)) == 0))


class MIAEfficacy(Metric):
    """MIA-efficacy as in SalUn: an SVC (RBF, C = 3, gamma = "auto") learns members = a seeded sample of
    the Dr sample of the test set's size vs non-members = test, on one feature of the unlearned model
    (the true-label probability, and separately the entropy); the value is the share of Df predicted
    non-member. Higher = Df looks less like training data; closer to the retrained model's value is
    better forgetting. Both classes are capped at ``max_per_class`` rows (seeded) to bound SVC time."""

    FEATURES = (("p_true", 0.0), ("entropy", 0.0))  # (signal, where NaN goes)

    def compute(self, ev: Evaluation):
        na = ev.membership_na([f"mia_efficacy/{feature}" for feature, _ in self.FEATURES])
        if na is not None:
            return na
        sig = ev.signals
        n = min(len(sig["test"]["loss"]), len(sig["retain"]["loss"]), self.args.max_per_class)
        members = sample(len(sig["retain"]["loss"]), n, generator(ev, "mia-efficacy-members"))
        nonmembers = sample(len(sig["test"]["loss"]), n, generator(ev, "mia-efficacy-nonmembers"))
        out: dict[str, float | None] = {}
        n_members, n_test = len(sig["retain"]["loss"]), len(sig["test"]["loss"])
        # SalUn fits on every member and non-member; a cap that binds changes the number: say so
        capped = n == self.args.max_per_class and max(n_members, n_test) > n
        for feature, nan in self.FEATURES:
            name = f"mia_efficacy/{feature}"
            if n == 0 or len(sig["forget"]["loss"]) == 0:
                out[name] = ev.not_applicable(name, "n/a (empty test, Dr sample or Df)")
                continue
            m = column(sig["retain"], feature, nan=nan)[members]
            nm = column(sig["test"], feature, nan=nan)[nonmembers]
            if np.ptp(np.r_[m, nm]) == 0:  # a constant feature separates nothing: any prediction would be arbitrary
                out[name] = ev.not_applicable(name, f"n/a ({feature} is constant on members and non-members)")
                continue
            out[name] = svc_efficacy(m, nm, column(sig["forget"], feature, nan=nan), C=self.args.C)
            if capped:
                ev.definitions[name] = (f"SVC fitted on a seeded sample of {n} of {n_members} members (Dr sample) and "
                                        f"{n} of {n_test} non-members (test): max_per_class = {self.args.max_per_class}")
        return out


class LossAttack(Metric):
    """Loss attack: membership score = −loss. Positives = Df, negatives = the evaluation half of the test
    set; the other (calibration) half sets the threshold for each target FPR, so the non-members that
    calibrate never evaluate. Values: AUC; TPR at each FPR with the FPR realised on the evaluation half
    (n/a with fewer than 10/FPR non-members per half). Lower = more forgotten; closer to retrain is better."""

    def compute(self, ev: Evaluation):
        na = ev.membership_na(attack_names("loss_attack", self.args.fprs))
        if na is not None:
            return na
        check_aligned(ev.signals["test"], ev.original["test"], split="test")
        calibration, evaluation = nonmember_halves(ev)
        test = attack_score(ev.signals["test"])
        return attack_values("loss_attack", ev, attack_score(ev.signals["forget"]), test[calibration],
                             test[evaluation], self.args.fprs)


class RetainPrivacy(Metric):
    """Retain-set privacy: the loss attack with the Dr sample as positives (vs the evaluation half of the
    test set, threshold from the calibration half), for the original and for the unlearned model.
    Unlearning Df can expose the data that stays ("privacy onion"): ``auc_change`` = unlearned − original
    AUC, above 0 means Dr became easier to detect. Lower is better."""

    def compute(self, ev: Evaluation):
        na = ev.membership_na(attack_names("retain_privacy", self.args.fprs) + attack_names(
            "retain_privacy", self.args.fprs, "_original") + ["retain_privacy/auc_change"])
        if na is not None:
            return na
        calibration, evaluation = nonmember_halves(ev)
        out: dict[str, float | None] = {}
        for suffix, sigs in (("", ev.signals), ("_original", ev.original)):
            check_aligned(sigs["test"], ev.original["test"], split="test")
            test = attack_score(sigs["test"])
            out.update(attack_values("retain_privacy", ev, attack_score(sigs["retain"]), test[calibration],
                                     test[evaluation], self.args.fprs, suffix=suffix))
        a, b = out["retain_privacy/auc"], out["retain_privacy/auc_original"]
        out["retain_privacy/auc_change"] = None if a is None or b is None else a - b
        return out
