"""Loss terms and the loss functions a :class:`~mubench_harness.training.Phase` minimises.

A :class:`Term` maps (model, raw batch) to one value per sample [B]: a knowledge measure (loss, KL to
a teacher, ...), optionally passed through its own SuperLoss, then negated (gradient corruption) and
weighted. The curriculum weighs the *positive* measure: weighing a negated loss would give the largest
weight to the samples already forgotten (MU-Bench's gradient ascent weighs, then negates). Builders
combine terms into the scalar loss of a phase, and each states its reduction:

- :func:`mean_loss` — Σ over terms of the batch mean (one data source per phase);
- :func:`by_membership` — a batch mixing Df and Dr rows (RandLabel, Bad-T): Df rows get the forget
  term, Dr rows the retain term, and the batch is reduced with ONE mean over all its rows; with a
  ``joint`` measure the student runs ONE forward over the whole mixed batch (BatchNorm statistics as
  in the reference), each row reading its own target;
- :func:`paired` — rows built by :func:`pair_rows` carry a Df sample and a Dr sample (GradDiff):
  mean of the forget term plus mean of the retain term.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ..contracts import Outputs, Task
from ..data import Rows
from .curriculum import SuperLoss
from .measure import kl_per_sample

PerSample = Callable[[torch.nn.Module, dict], torch.Tensor]


class Term:
    """``weight · sign · curriculum(measure(model, batch))`` per sample.

    ``measure`` may be ``None`` for a term that only weighs values another piece measured (the rows of
    a :func:`by_membership` batch with a ``joint`` measure).
    """

    def __init__(self, name: str, measure: PerSample | None, *, weight: float = 1.0, ascent: bool = False,
                 curriculum: SuperLoss | None = None):
        self.name, self.measure, self.weight, self.ascent, self.curriculum = name, measure, weight, ascent, curriculum

    def __call__(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        if self.measure is None:
            raise ValueError(f"term {self.name!r} has no measure of its own: it weighs a joint measure's values")
        return self.weigh(self.measure(model, batch))

    def weigh(self, values: torch.Tensor) -> torch.Tensor:
        """Curriculum on the positive measure, then the sign, then the weight."""
        if self.curriculum is not None:
            values = self.curriculum(values)
        if self.ascent:  # gradient corruption: maximise the measure by minimising its negation
            values = -values
        return self.weight * values


# -- measures bound to a task ------------------------------------------------------------------------
def task_loss(task: Task, built=None) -> PerSample:
    """The task's per-sample loss (classification CE; generation mean-token CE; diffusion noise MSE)."""
    return lambda model, batch: task.per_sample_loss(model, task.prepare_batch(batch, built))


def sequence_nll(task: Task, built=None) -> PerSample:
    """The task's summed target NLL per sample (NPO's ℓ)."""
    return lambda model, batch: task.sequence_nll(model, task.prepare_batch(batch, built))


def distill(task: Task, teacher: torch.nn.Module, *, tau: float = 1.0, built=None, scale_tau2: bool = False) -> PerSample:
    """KL_τ(teacher‖student) per sample (× τ² when ``scale_tau2``); the teacher runs without grad.

    τ² compensates the 1/τ² a temperature puts on the gradient of a KL on logits; noise outputs
    (diffusion) compare by MSE, which has no temperature, so they are never scaled."""

    def measure(model, batch):
        batch = task.prepare_batch(batch, built)
        with torch.no_grad():
            target = task.outputs(teacher, batch)
        return tau_scaled(kl_per_sample(task.outputs(model, batch), target, tau), target, tau, scale_tau2)

    return measure


def distill_by_row(task: Task, forget_teacher: torch.nn.Module, retain_teacher: torch.nn.Module,
                   is_forget: torch.Tensor, *, tau: float = 1.0, built=None, scale_tau2: bool = False) -> PerSample:
    """KL_τ(target‖student) per row of a mixed batch, the target being ``forget_teacher``'s outputs on
    Df rows and ``retain_teacher``'s on Dr rows (Bad-T). The student runs ONE forward over the whole
    batch; both frozen teachers see the whole batch too, as in Bad-T's reference code."""

    def measure(model, batch):
        rows_f = is_forget[batch["idx"].cpu()].to(batch["idx"].device)
        batch = task.prepare_batch(batch, built)
        with torch.no_grad():
            on_f, on_r = task.outputs(forget_teacher, batch), task.outputs(retain_teacher, batch)
        pick = rows_f.view(-1, *([1] * (on_f.values.dim() - 1)))
        target = Outputs(torch.where(pick, on_f.values, on_r.values), on_f.mask, on_f.kind)
        return tau_scaled(kl_per_sample(task.outputs(model, batch), target, tau), target, tau, scale_tau2)

    return measure


def tau_scaled(values: torch.Tensor, target: Outputs, tau: float, scale_tau2: bool) -> torch.Tensor:
    return values * (tau * tau) if scale_tau2 and target.kind == "logits" else values


# -- phase losses ------------------------------------------------------------------------------------
def mean_loss(*terms: Term) -> Callable[[torch.nn.Module, dict], torch.Tensor]:
    def loss(model, batch):
        return sum(term(model, batch).mean() for term in terms)

    return loss


def membership(forget: Rows, *others: Rows) -> torch.Tensor:
    """Boolean lookup over training-set positions: True where the position is in ``forget``."""
    size = int(max(int(r["idx"].max()) for r in (forget, *others) if len(r))) + 1
    table = torch.zeros(size, dtype=torch.bool)
    table[forget["idx"]] = True
    return table


def by_membership(forget_term: Term, retain_term: Term, is_forget: torch.Tensor, *, joint: PerSample | None = None):
    """Loss of a batch mixing Df and Dr rows: per-row term by membership, one mean over the batch.

    ``joint``: one measure giving every row its value in ONE forward over the mixed batch; the terms
    then only weigh their rows' values (curriculum, sign, weight). Without it, each term measures its
    own rows (two forwards: only for terms that measure different things, e.g. ``compose``).
    """

    def loss(model, batch):
        rows_f = is_forget[batch["idx"].cpu()].to(batch["idx"].device)
        values = joint(model, batch) if joint is not None else None
        parts = []
        for term, select in ((forget_term, rows_f), (retain_term, ~rows_f)):
            if bool(select.any()):
                if values is not None:
                    parts.append(term.weigh(values[select]))
                else:
                    parts.append(term(model, {k: v[select] for k, v in batch.items()}))
        return torch.cat(parts).sum() / len(batch["idx"])

    return loss


def pair_rows(forget: Rows, retain: Rows, generator: torch.Generator) -> Rows:
    """Each Df row paired with a uniformly drawn Dr row; columns ``f.<name>`` and ``r.<name>``.

    ``idx`` is the Df row's position, so the loop's bookkeeping follows the forget sample.
    """
    if not len(retain):
        raise ValueError("cannot pair Df with an empty Dr")
    pick = torch.randint(0, len(retain), (len(forget),), generator=generator)
    partner = retain.select(pick)
    cols = {f"f.{k}": v for k, v in forget.columns.items()} | {f"r.{k}": v for k, v in partner.columns.items()}
    return Rows({**cols, "idx": forget["idx"]})


def unpair(batch: dict, side: str) -> dict:
    prefix = f"{side}."
    return {k[len(prefix):]: v for k, v in batch.items() if k.startswith(prefix)}


def paired(forget_term: Term, retain_term: Term):
    """Loss of :func:`pair_rows` batches: mean forget term + mean retain term."""

    def loss(model, batch):
        return forget_term(model, unpair(batch, "f")).mean() + retain_term(model, unpair(batch, "r")).mean()

    return loss
