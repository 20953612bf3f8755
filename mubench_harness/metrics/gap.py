"""Knowledge gap: how much worse the unlearned model does on Df than on data it kept."""
from __future__ import annotations

from . import Evaluation, Metric
from .common import auc, column, generator, sample


class KnowledgeGap(Metric):
    """``knowledge_gap/auc`` = AUC separating Df (positives) from one seeded Dr sample of |Df| rows by
    the statistic −score (a forgotten sample scores lower): P(score(Df) < score(Dr)), ties ½. 0.5 means
    no gap (Df is handled like retained data, as by the original); a perfectly unlearned model shows the
    gap an unseen set shows, printed as the reference ``knowledge_gap/reference_test_vs_retain``: the
    original model's AUC of test (positives) vs its Dr sample, same statistic. Closer to the reference /
    the retrained model's value is better forgetting."""

    def compute(self, ev: Evaluation):
        # Df and Dr both outside the original's training data: there is no gap to measure
        na = ev.membership_na(["knowledge_gap/auc", "knowledge_gap/reference_test_vs_retain"])
        if na is not None:
            return na
        forget, retain = ev.signals["forget"], ev.signals["retain"]
        pick = sample(len(retain["score"]), len(forget["score"]), generator(ev, "knowledge-gap"))
        negatives = -column(retain, "score", nan=0.0)[pick]
        value = auc(-column(forget, "score", nan=0.0), negatives)
        reference = auc(-column(ev.original["test"], "score", nan=0.0), -column(ev.original["retain"], "score", nan=0.0))
        out = {"knowledge_gap/auc": value, "knowledge_gap/reference_test_vs_retain": reference}
        if value is None:
            ev.not_applicable("knowledge_gap/auc", "n/a (empty Df or Dr sample)")
        return out
