"""MU-Bench's retrain-free overall score."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric


def harmonic(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


class Overall(Metric):
    """Classification: ``overall/score`` = harmonic mean of 1 − |A_test − A_test^orig| and
    1 − |A_Df − chance| (performance in [0, 1]). With ``gates`` on (off by default, recorded as
    ``overall/gates_applied``), the paper code's gate sets it to 0 when test performance moved by more
    than 20 % relative to the original (40 % for NegGrad). Generation (no chance level): the arithmetic
    mean of the test score, 1 − the Df score and the knowledge-gap AUC. Higher is better."""

    def compute(self, ev: Evaluation):
        test = float(np.nanmean(ev.signals["test"]["score"]))
        forget = float(np.nanmean(ev.signals["forget"]["score"]))
        if ev.generative:
            from .gap import KnowledgeGap

            gap = KnowledgeGap(None).compute(ev)["knowledge_gap/auc"]
            if gap is None:
                return {"overall/score": ev.not_applicable("overall/score", "n/a (no knowledge gap)"),
                        "overall/gates_applied": 0.0}
            return {"overall/score": (test + (1 - forget) + gap) / 3, "overall/gates_applied": 0.0}
        test_orig = float(np.nanmean(ev.original["test"]["score"]))
        score = harmonic(1 - abs(test - test_orig), 1 - abs(forget - ev.chance))
        if self.args.gates:
            limit = self.args.neggrad_limit if ev.unlearner in self.args.neggrad_names else self.args.limit
            if test_orig > 0 and abs(test - test_orig) / test_orig > limit:
                score = 0.0
        return {"overall/score": score, "overall/gates_applied": float(self.args.gates)}
