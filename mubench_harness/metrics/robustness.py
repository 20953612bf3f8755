"""Is the forgetting real? Two attacks that change a *copy* of the unlearned model and measure Df again.

* Quantisation (after Zhang et al. 2024, "Catastrophic failure of LLM unlearning via quantization"):
  per-tensor symmetric round-to-nearest quantisation of every floating weight matrix to 8 and 4 bits.
  An unlearned model whose forgetting is a small weight perturbation on top of the original can get
  its Df score back when rounding wipes that perturbation out.
* Relearning (after Lynch et al. 2024, "Eight methods to evaluate robust unlearning in LLMs", and
  Hu et al. 2024, "Jogging the memory of unlearned models through targeted relearning attacks"):
  a few fine-tuning steps on one half of Df (or on the Dr sample), then the Df score on the other half.
  Knowledge that is suppressed rather than removed returns faster than a retrained model learns it.

Both read the task's own per-sample score through the same forward pass as every other signal
(:func:`~mubench_harness.signals.compute_signals`) and never touch the evaluated model itself.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch

from ..signals import compute_signals
from ..training import OptimizerConfig, Phase, make_optimizer, run_loop
from . import Evaluation, Metric
from .common import generator, halves

QUANT_BITS = (8, 4)
QUANT_VALUES = tuple(f"robust/{split}_score_int{b}" for b in QUANT_BITS for split in ("df", "test"))
RELEARN_VALUES = ("robust/relearn_df_score_before", "robust/relearn_df_score", "robust/relearn_return")


def _no_models(ev: Evaluation, names) -> dict[str, None]:
    return {n: ev.not_applicable(n, "n/a (the evaluation carries signals only, not the model)") for n in names}


def _mean_score(ev: Evaluation, model: torch.nn.Module, rows) -> float:
    m = ev.models
    sig = compute_signals(m.task, model, rows, m.built, device=m.device)
    return float(np.nanmean(np.asarray(sig["score"], dtype=np.float64))) if len(sig["score"]) else float("nan")


@torch.no_grad()
def quantize_weights_(model: torch.nn.Module, bits: int) -> torch.nn.Module:
    """Round every floating parameter of two or more dimensions (weight matrices, embeddings, kernels)
    to ``bits``-bit symmetric integers with one scale per tensor, scale = max|w| / (2^(bits−1) − 1), and
    store the dequantised values in place. Biases and norms (1-D) stay in full precision, as weight-only
    quantisation schemes leave them. Returns ``model``."""
    qmax = 2 ** (bits - 1) - 1
    for p in model.parameters():
        if p.dim() < 2 or not p.is_floating_point():
            continue
        scale = p.abs().max() / qmax
        if scale == 0:
            continue
        p.copy_(torch.clamp(torch.round(p / scale), -qmax, qmax) * scale)
    return model


class Quantization(Metric):
    """``robust/df_score_int{8,4}`` and ``robust/test_score_int{8,4}``: the task's mean score on Df and
    test of a copy of the evaluated model with its weights quantised to 8 and 4 bits. Compare with
    ``forget/score``: a Df score that rises after quantisation means the forgetting did not survive it."""

    def compute(self, ev: Evaluation):
        if ev.models is None:
            return _no_models(ev, QUANT_VALUES)
        out: dict[str, float | None] = {}
        for bits in QUANT_BITS:
            q = quantize_weights_(copy.deepcopy(ev.models.model), bits)
            out[f"robust/df_score_int{bits}"] = _mean_score(ev, q, ev.models.splits["forget"])
            out[f"robust/test_score_int{bits}"] = _mean_score(ev, q, ev.models.splits["test"])
            del q
        return out


class Relearning(Metric):
    """Fine-tune a copy of the evaluated model for ``steps`` steps of the task's mean per-sample loss
    (Adam at ``lr``, batches of ``batch_size``, shuffled with the cell's seed) on one half of Df
    (``data: forget``) or on the Dr sample (``data: retain``), then score the other half of Df.

    ``robust/relearn_df_score_before`` is that half's score before the attack, ``robust/relearn_df_score``
    after, ``robust/relearn_return`` the difference. The retrain row of the same cell is the reference:
    a model that never saw Df also learns from the attack's rows, and forgetting is as good as
    retraining's where its return is no larger."""

    def compute(self, ev: Evaluation):
        if ev.models is None:
            return _no_models(ev, RELEARN_VALUES)
        a = self.args
        forget = ev.models.splits["forget"]
        attack_pos, eval_pos = halves(len(forget), generator(ev, "relearn-halves"))
        if len(attack_pos) == 0 or len(eval_pos) == 0:
            return {n: ev.not_applicable(n, "n/a (Df too small to split in two)") for n in RELEARN_VALUES}
        attack_rows = forget.select(attack_pos) if a.data == "forget" else ev.models.splits["retain"]
        held_out = forget.select(eval_pos)
        # the signals already computed hold the same Df rows in the same order: the score before is read there
        before = float(np.nanmean(np.asarray(ev.signals["forget"]["score"], dtype=np.float64)[eval_pos]))
        model = copy.deepcopy(ev.models.model).requires_grad_(True)
        task, built = ev.models.task, ev.models.built
        loss = lambda m, b: task.per_sample_loss(m, task.prepare_batch(b, built)).mean()  # noqa: E731
        per_epoch = math.ceil(len(attack_rows) / a.batch_size)
        epochs = math.ceil(a.steps / per_epoch)
        # the project's one training loop; the last epoch stops at the step count
        schedule = lambda e: [Phase("relearn", attack_rows, a.batch_size, loss,  # noqa: E731
                                    max_steps=min(per_epoch, a.steps - e * per_epoch))]
        run_loop(model, schedule, epochs=epochs, optimizer=make_optimizer(model.parameters(), OptimizerConfig(lr=a.lr)),
                 seed=ev.seed, device=ev.models.device)
        after = _mean_score(ev, model, held_out)
        ev.definitions["robust/relearn_return"] = (
            f"{a.steps} Adam steps (lr {a.lr:g}, batch {a.batch_size}) on {len(attack_rows)} rows of "
            f"{'Df (the other half)' if a.data == 'forget' else 'the Dr sample'}; scored on {len(eval_pos)} held-out Df rows")
        return {"robust/relearn_df_score_before": before, "robust/relearn_df_score": after,
                "robust/relearn_return": after - before}
