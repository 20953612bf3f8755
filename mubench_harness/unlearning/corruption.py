"""Corruption: how a method destroys the knowledge of Df.

- *gradient*: ascent on a measure — :class:`~.terms.Term` with ``ascent=True``;
- *data*: :func:`corrupted_forget` — RandLabel's wrong targets, drawn from the run seed through
  ``task.corrupt`` (uniform over the other classes, or a different sample's target); once per run or
  redrawn every epoch, over the other classes or all of them (:func:`relabelling`);
- *model*: :func:`incompetent_teacher` — a freshly initialised model of the same architecture
  (seeded), whose outputs are the targets on Df (Bad-T).
"""
from __future__ import annotations

import torch

from ..data import Rows

#: salts keep the method's independent random draws independent of each other for one run seed
SALT_LABELS, SALT_SUBSET, SALT_TEACHER, SALT_PAIRS = 11, 23, 37, 53


#: salt step between the label draws of successive epochs (``relabel: epoch``)
SALT_DRAW = 100_003


def relabelling(ctx, relabel: str | None, include_true: bool | None) -> tuple[str, bool]:
    """RandLabel's draw: ``once`` per run or every ``epoch``; from the other classes or all of them.

    Unset choices follow the rule: under ``optimizer: authors``, SalUn's code (the reference of both
    RandLabel and SalUn) redraws every epoch over ALL classes; otherwise the paper's intent, one draw
    of a wrong label. What was used goes to the notes.
    """
    reference = ctx.rule.name == "authors"
    relabel = relabel or ("epoch" if reference else "once")
    include_true = reference if include_true is None else include_true
    if relabel not in ("once", "epoch"):
        raise ValueError(f"relabel must be 'once' or 'epoch', not {relabel!r}")
    ctx.notes.update(relabel=relabel, relabel_include_true=include_true)
    return relabel, include_true


def corrupted_forget(ctx, include_true: bool = False, draw: int = 0) -> Rows:
    """Df with corrupted targets; a different sample's target is drawn from Dr for generation.
    ``draw`` numbers independent draws of one run (epoch ``e`` of ``relabel: epoch`` is draw ``e``)."""
    generator = ctx.generator(SALT_LABELS + SALT_DRAW * draw)
    rows = ctx.task.corrupt(ctx.forget, ctx.retain, generator, include_true=include_true)
    if not torch.equal(rows["idx"], ctx.forget["idx"]):
        raise ValueError("task.corrupt must keep each row's idx (Df membership is tracked by it)")
    return rows


def incompetent_teacher(ctx) -> torch.nn.Module:
    """Bad-T's teacher: a fresh, seeded init of the same architecture; frozen, in eval mode."""
    from ..distributed.shards import shard_frozen

    seed = ctx.seed * 1_000_003 + SALT_TEACHER
    teacher = ctx.fresh_model(seed)
    teacher.to(ctx.device).eval().requires_grad_(False)
    ctx.notes["teacher_seed"] = seed
    # under ZeRO-3/FSDP each rank keeps its shard of it, not a whole copy (nothing else reads it whole),
    # released with the cell
    held = shard_frozen(teacher, ctx.accelerator)
    if held is not teacher:
        ctx.frozen.append(held)
    return held


def retain_subset(ctx, fraction: float) -> Rows:
    """A random ``fraction`` of Dr drawn with the run seed. Dr is disjoint from Df by construction;
    the check guards against a context whose Dr was built from the full training set."""
    if not 0 < fraction <= 1:
        raise ValueError(f"retain fraction must be in (0, 1], got {fraction}")
    n = round(fraction * len(ctx.retain))
    pick = torch.randperm(len(ctx.retain), generator=ctx.generator(SALT_SUBSET))[:n].sort().values
    subset = ctx.retain.select(pick)
    overlap = torch.isin(subset["idx"], ctx.forget["idx"])
    if bool(overlap.any()):
        raise ValueError(f"Dr shares {int(overlap.sum())} rows with Df: the retain subset must be disjoint from Df")
    return subset
