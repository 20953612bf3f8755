"""Corruption: how a method destroys the knowledge of Df.

- *gradient*: ascent on a measure — :class:`~.terms.Term` with ``ascent=True``;
- *data*: :func:`corrupted_forget` — RandLabel's wrong targets, drawn ONCE per run from the run seed
  through ``task.corrupt`` (uniform over the other classes, or a different sample's target);
- *model*: :func:`incompetent_teacher` — a freshly initialised model of the same architecture
  (seeded), whose outputs are the targets on Df (Bad-T).
"""
from __future__ import annotations

import torch

from ..data import Rows

#: salts keep the method's independent random draws independent of each other for one run seed
SALT_LABELS, SALT_SUBSET, SALT_TEACHER, SALT_PAIRS = 11, 23, 37, 53


def corrupted_forget(ctx, include_true: bool = False) -> Rows:
    """Df with corrupted targets; a different sample's target is drawn from Dr for generation."""
    rows = ctx.task.corrupt(ctx.forget, ctx.retain, ctx.generator(SALT_LABELS), include_true=include_true)
    if not torch.equal(rows["idx"], ctx.forget["idx"]):
        raise ValueError("task.corrupt must keep each row's idx (Df membership is tracked by it)")
    return rows


def incompetent_teacher(ctx) -> torch.nn.Module:
    """Bad-T's teacher: a fresh, seeded init of the same architecture; frozen, in eval mode."""
    seed = ctx.seed * 1_000_003 + SALT_TEACHER
    teacher = ctx.fresh_model(seed)
    teacher.to(ctx.device).eval().requires_grad_(False)
    ctx.notes["teacher_seed"] = seed
    return teacher


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
