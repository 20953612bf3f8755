"""Phases several methods share, built from the pieces (SalUn reuses RandLabel's pass; ``compose``
reuses all of them). Each returns a :class:`~mubench_harness.training.Phase`."""
from __future__ import annotations

import torch

from ..data import Rows
from ..training import Phase
from .corruption import SALT_DRAW, SALT_PAIRS, corrupted_forget, incompetent_teacher, retain_subset
from .measure import kl_per_sample
from .terms import Term, by_membership, distill_by_row, mean_loss, membership, task_loss, unpair


def relabelled_schedule(make_phase, relabel: str):
    """The loop's schedule of a relabelling method: ``make_phase(draw)`` once (``relabel: once``) or
    for every epoch (``relabel: epoch``, SalUn's code), each epoch's phase built when it starts."""
    if relabel == "once":
        phase = make_phase(0)
        return lambda epoch: [phase]
    return lambda epoch: [make_phase(epoch)]


def relabel_phases(ctx, batch_size: int, *, include_true: bool, curriculum=None, retain_weight: float = 1.0):
    """Draw number -> the phase of a relabelling method (RandLabel, SalUn): on text-to-image, the Df
    prompt's predicted noise redirected to another prompt's (SalUn's Stable Diffusion code) plus
    ``retain_weight`` × the Dr loss; elsewhere corrupted targets mixed with Dr rows."""
    if ctx.task.kind == "text_to_image":
        return lambda draw: redirect_phase(ctx, batch_size, curriculum=curriculum, draw=draw, retain_weight=retain_weight)
    return lambda draw: randlabel_phase(ctx, batch_size, include_true=include_true, curriculum=curriculum, draw=draw)


def randlabel_phase(ctx, batch_size: int, *, include_true: bool = False, curriculum=None,
                    name: str = "randlabel", draw: int = 0) -> Phase:
    """Df rows with corrupted targets (draw ``draw`` from the run seed) and Dr rows in one shuffled
    pass; task loss per row, one mean over each mixed batch. ``curriculum``: a factory of SuperLoss
    (called once per term) or ``None``."""
    corrupted = corrupted_forget(ctx, include_true=include_true, draw=draw)
    rows = Rows.concat([corrupted, ctx.retain])
    measure = task_loss(ctx.task, ctx.built)
    if curriculum is None:
        # Both rows kinds share the measure: one forward pass over the whole mixed batch (splitting
        # it by membership would run two smaller passes for the same value).
        return Phase(name, rows, batch_size, mean_loss(Term("randlabel", measure)))
    # each row kind weighs with its own SuperLoss; the values come from one forward over the mixed batch
    forget, retain = Term("forget", None, curriculum=curriculum()), Term("retain", None, curriculum=curriculum())
    return Phase(name, rows, batch_size, by_membership(forget, retain, membership(ctx.forget, ctx.retain), joint=measure))


def badt_phase(ctx, batch_size: int, *, retain_fraction: float = 0.3, tau: float = 1.0, curriculum=None,
               name: str = "badt") -> Phase:
    """Bad-T's pass: Df plus a seeded ``retain_fraction`` of Dr (disjoint from Df); target = the
    incompetent teacher's softmax on Df rows, the original's on Dr rows; KL_τ(target‖θ), one mean.
    The student runs one forward over each mixed batch (BatchNorm statistics as in the reference)."""
    teacher = incompetent_teacher(ctx)
    subset = retain_subset(ctx, retain_fraction)
    ctx.notes["retain_subset_size"] = len(subset)
    make = curriculum or (lambda: None)
    is_forget = membership(ctx.forget, subset)
    joint = distill_by_row(ctx.task, teacher, ctx.original, is_forget, tau=tau, built=ctx.built)
    forget, retain = Term("forget", None, curriculum=make()), Term("retain", None, curriculum=make())
    return Phase(name, Rows.concat([ctx.forget, subset]), batch_size, by_membership(forget, retain, is_forget, joint=joint))


def redirect_phase(ctx, batch_size: int, *, curriculum=None, name: str = "redirect", draw: int = 0,
                   retain_weight: float = 1.0) -> Phase:
    """SalUn's diffusion pass: on each Df row, MSE(εθ(x_t, c_f), stopgrad εθ(x_t, c_other)) — the
    prediction for the true condition pulled to the student's own prediction for another sample's
    condition (``task.corrupt``, draw ``draw``) — plus ``retain_weight`` × the task loss on a Dr row
    paired with it (SalUn's Stable Diffusion code weighs it by α = 0.5).

    Contract: a ``noise`` task derives x_t, t and ε from the row itself (e.g. seeded by ``idx``), so
    the two conditionings of one row share them; ``task.corrupt`` keeps ``idx``.
    """
    task, built = ctx.task, ctx.built
    corrupted = corrupted_forget(ctx, draw=draw)
    pick = torch.randint(0, len(ctx.retain), (len(ctx.forget),), generator=ctx.generator(SALT_PAIRS + SALT_DRAW * draw))
    columns = {f"f.{k}": v for k, v in ctx.forget.columns.items()}
    columns |= {f"c.{k}": v for k, v in corrupted.columns.items()}
    columns |= {f"r.{k}": v for k, v in ctx.retain.select(pick).columns.items()}
    rows = Rows({**columns, "idx": ctx.forget["idx"]})

    def redirect(model, batch):
        true_cond = task.prepare_batch(unpair(batch, "f"), built)
        other_cond = task.prepare_batch(unpair(batch, "c"), built)
        with torch.no_grad():
            target = task.outputs(model, other_cond)
        return kl_per_sample(task.outputs(model, true_cond), target)  # noise outputs: MSE per sample

    make = curriculum or (lambda: None)
    forget = Term("forget", redirect, curriculum=make())
    retain = Term("retain", task_loss(task, built), weight=retain_weight, curriculum=make())
    return Phase(name, rows, batch_size, lambda m, b: forget(m, b).mean() + retain(m, unpair(b, "r")).mean())
