"""Performance on each split: mean per-sample score (accuracy, ROUGE-L, fact recall, ...)."""
from __future__ import annotations

import numpy as np

from . import Evaluation, Metric


class Performance(Metric):
    """``{split}/score`` = mean score of the unlearned model on every split it was evaluated on, and
    ``{split}/size`` = how many rows that mean is over (``retain`` is a seeded sample of Dr).

    Beside Df: classification reports the random level the overall score aims at (``forget/chance`` =
    1/K, MU-Bench's "random") and the training set's majority-class rate (``forget/majority_rate``:
    what always guessing the commonest class gets); generation has no chance level and reports the
    original model's Df score instead (``forget/original_score``).
    """

    def compute(self, ev: Evaluation):
        out: dict[str, float | None] = {}
        for split, sig in ev.signals.items():
            score = np.asarray(sig["score"], dtype=np.float64)
            out[f"{split}/score"] = float(np.nanmean(score)) if len(score) else None
            out[f"{split}/size"] = float(len(score))
        if ev.generative:
            for name in ("forget/chance", "forget/majority_rate"):
                out[name] = ev.not_applicable(name, "n/a (generation has no chance level)")
            out["forget/original_score"] = float(np.nanmean(ev.original["forget"]["score"]))
        else:
            out["forget/chance"] = float(ev.random_chance)
            out["forget/majority_rate"] = float(ev.chance)
        return out


class ClipScore(Metric):
    """``{split}/clip_score`` = mean CLIP score of the images generated for the split's prompts, from
    the ``clip_score`` signal a text-to-image task adds when it names a CLIP model; the original's Df
    value beside it. Nothing for tasks without that signal."""

    def compute(self, ev: Evaluation):
        out: dict[str, float | None] = {}
        for split, sig in ev.signals.items():
            if "clip_score" in sig and len(sig["clip_score"]):
                out[f"{split}/clip_score"] = float(np.nanmean(sig["clip_score"]))
        original = ev.original.get("forget", {})
        if out and "clip_score" in original and len(original["clip_score"]):
            out["forget/original_clip_score"] = float(np.nanmean(original["clip_score"]))
        return out
