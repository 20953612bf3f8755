"""MU-Bench's retrain-free overall score, as the authors' code defines it, and our majority-rate variant."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric


def harmonic(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


class Overall(Metric):
    """Classification: ``overall/score`` = H(1 − |A_test − A_test^orig|, 1 − |A_Df − 1/K|), the harmonic
    mean of test preservation and Df at MU-Bench's random level 1/K (performance in [0, 1]). With
    ``gates`` on (the default, as in the authors' code) it is 0 when test performance moved by more than
    ``limit`` = 20 % relative to the original (``neggrad_limit`` = 40 % for NegGrad), or when A_Df fell
    more than ``df_limit`` = 20 % (relative) below 1/K: a model that does *worse* than random on Df has
    not forgotten, it has learned the opposite. ``overall/gated`` = 1 when a gate zeroed the score.

    ``overall/score_majority`` is our earlier variant: the same harmonic mean against the training set's
    majority-class rate, without gates (on imbalanced data 1/K is below what guessing the commonest
    class gets). Generation (no chance level): the arithmetic mean of the test score, 1 − the Df score
    and the knowledge-gap AUC, as MU-Bench's text-generation evaluator; n/a when the gap is. Higher is
    better."""

    def compute(self, ev: Evaluation):
        test = float(np.nanmean(ev.signals["test"]["score"]))
        forget = float(np.nanmean(ev.signals["forget"]["score"]))
        gates = float(self.args.gates)
        if ev.generative:
            from .gap import KnowledgeGap

            gap = KnowledgeGap(None).compute(ev)["knowledge_gap/auc"]
            if gap is None:
                why = ev.na_reasons.get("knowledge_gap/auc", "n/a (no knowledge gap)")
                return {"overall/score": ev.not_applicable("overall/score", why),
                        "overall/score_majority": ev.not_applicable("overall/score_majority", why),
                        "overall/gates_applied": 0.0, "overall/gated": 0.0}
            return {"overall/score": (test + (1 - forget) + gap) / 3,
                    "overall/score_majority": ev.not_applicable("overall/score_majority", "n/a (generation has no chance level)"),
                    "overall/gates_applied": 0.0, "overall/gated": 0.0}
        test_orig = float(np.nanmean(ev.original["test"]["score"]))
        kept = 1 - abs(test - test_orig)
        random = ev.random_chance
        score = harmonic(kept, 1 - abs(forget - random))
        gated = 0.0
        a = self.args
        ev.definitions["overall/score"] = (
            f"H(1 − |A_test − A_test^orig|, 1 − |A_Df − 1/K|), 1/K = {random:.4g}" if ev.num_classes else
            f"H(1 − |A_test − A_test^orig|, 1 − |A_Df − chance|), chance = majority rate {random:.4g} (K unknown)") + (
            f"; gates on: 0 when |ΔA_test|/A_test^orig > {a.limit:g} ({a.neggrad_limit:g} for {', '.join(a.neggrad_names)}) "
            f"or A_Df below chance by more than {a.df_limit:g} relative" if a.gates else "; gates off")
        if self.args.gates:
            limit = self.args.neggrad_limit if ev.unlearner in self.args.neggrad_names else self.args.limit
            test_moved = test_orig > 0 and abs(test - test_orig) / test_orig > limit
            below_random = random > 0 and forget < random and (random - forget) / random > self.args.df_limit
            if test_moved or below_random:
                score, gated = 0.0, 1.0
        return {"overall/score": score, "overall/score_majority": harmonic(kept, 1 - abs(forget - ev.chance)),
                "overall/gates_applied": gates, "overall/gated": gated}
