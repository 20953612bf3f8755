"""Corpus-level macro-F1 from per-sample signals (a corpus metric cannot be a per-sample signal)."""
from __future__ import annotations

import numpy as np

from mubench_harness.metrics import Evaluation, Metric


def macro_f1(labels, predictions, negative_label: int | None = 0, num_classes: int | None = None) -> float:
    """Macro-F1 over the classes except ``negative_label`` (DDI-2013: mechanism, effect, advise, int).
    Classes absent from both gold labels and predictions are left out of the average."""
    from sklearn.metrics import f1_score

    labels = np.asarray(labels).astype(np.int64)
    predictions = np.asarray(predictions).astype(np.int64)
    k = num_classes or int(max(labels.max(initial=0), predictions.max(initial=0)) + 1)
    classes = [c for c in range(k) if c != negative_label and ((labels == c).any() or (predictions == c).any())]
    if not classes:
        return 0.0
    return float(f1_score(labels, predictions, labels=classes, average="macro", zero_division=0))


class MacroF1(Metric):
    def compute(self, ev: Evaluation):
        out: dict[str, float | None] = {}
        for split, sig in ev.signals.items():
            if "pred" in sig and "label" in sig:
                out[f"{split}/macro_f1"] = macro_f1(sig["label"], sig["pred"], self.args.negative_label)
        return out
