"""Performance on each split, and the cost of unlearning."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric


class Performance(Metric):
    def compute(self, ev: Evaluation):
        out: dict[str, float | None] = {f"{split}/score": float(np.mean(sig["score"])) for split, sig in ev.signals.items()}
        out["forget/chance"] = ev.chance
        return out


class Cost(Metric):
    def compute(self, ev: Evaluation):
        ratio = lambda a, b: (a / b) if b else None  # noqa: E731
        return {
            "time/seconds": ev.seconds,
            "time/flos": ev.flops,
            "time/seconds_vs_retrain": ratio(ev.seconds, ev.retrain_seconds),
            "time/flos_vs_retrain": ratio(ev.flops, ev.retrain_flops),
        }
