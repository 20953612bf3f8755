"""Which recipe trains each original, and which rule each unlearning method runs under.

:func:`training_recipe` is THE resolution of (task, model family, scale, source) → the recipe that trains
the original and retrains on Dr: the run uses it, records it in its configuration (``resolved_args``),
and ``mubench plan`` prints it. :func:`mubench_unlearning` is the MU-Bench authors' unlearning rule
(``optimizer: mubench``) for one (task, method).

Light at import (no torch): a task's real-scale recipes are data on its spec. Only the mini recipe, the
task class's own ``recipe``, imports the task's module, and only when a mini or tiny cell asks for it.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from .specs import ModelSpec, TaskSpec, TrainRecipe


def training_recipe(task: TaskSpec, model: ModelSpec, scale: str, source: str, override: Any = None) -> TrainRecipe:
    """The recipe that trains ``model`` at ``scale`` on ``task`` read from ``source``.

    * ``source: mini``, or a scale the family builds offline (no hub id: ``tiny``): the task class's own
      ``recipe``, tuned for the tiny models on the mini data.
    * otherwise the task spec's ``recipes`` table, most specific key first: ``"family:scale"``,
      ``"family"``, ``"*"``; a task with no entry falls back to its class recipe too.

    ``override`` (a benchmark file's ``recipe:`` block, a pydantic model or a dict) replaces the fields
    it sets; the result's ``source`` then says so. The returned recipe is a fresh copy.
    """
    real = source != "mini" and model.scales.get(scale) is not None
    found = None
    if real:
        for key in (f"{model.name}:{scale}", model.name, "*"):
            if key in task.recipes:
                found = task.recipes[key]
                break
    if found is None:
        own = task.load().recipe
        found = replace(own, source=own.source or f"the {task.name} task's tiny-model recipe ({type(own).__name__} "
                                                             f"of {task.factory})")
    recipe = replace(found)
    fields = _set_fields(override)
    if fields:
        recipe = replace(recipe, **fields, source=f"{recipe.source}; overridden in the benchmark file: "
                                                  + ", ".join(f"{k}={v}" for k, v in sorted(fields.items())))
    return recipe


def _set_fields(override: Any) -> dict[str, Any]:
    if override is None:
        return {}
    raw = override.model_dump() if hasattr(override, "model_dump") else dict(override)
    return {k: v for k, v in raw.items() if v is not None}


def benchmark_recipes(v) -> dict[tuple[str, str, str], TrainRecipe]:
    """Every (task, model, scale) of a validated benchmark → its resolved training recipe."""
    out = {}
    for t in v.bench.tasks:
        spec = v.registry.get("tasks", t.name)
        for m in t.models:
            mspec = v.registry.get("models", m.name)
            for scale in m.scales:
                out[(t.name, m.name, scale)] = training_recipe(spec, mspec, scale, t.source, m.recipe)
    return out


def recipes_record(recipes: dict[tuple[str, str, str], TrainRecipe]) -> dict[str, dict[str, Any]]:
    """The JSON a run records: ``"task/model/scale"`` → the recipe's fields and source."""
    return {"/".join(key): asdict(r) for key, r in recipes.items()}


def mubench_unlearning(task: TaskSpec, method: str, ratio: int | None = None) -> dict[str, Any] | None:
    """The MU-Bench authors' unlearning settings for ``method`` on ``task`` at deletion ratio ``ratio``
    (percent; ``None``: the method's factor for ratios the file names no exception for): ``lr``,
    ``epochs``, ``batch_size``, ``optimizer``, ``weight_decay``, ``source``; ``None`` where their code gives none."""
    u = task.unlearning
    if u is None:
        return None
    adj = u.methods.get(method)
    factor = adj.lr_factor_at.get(ratio, adj.lr_factor) if adj else 1.0
    lr = u.lr * factor
    epochs = adj.epochs if adj and adj.epochs is not None else u.epochs
    note = f" ({method}: lr × {factor:g}{f', {epochs} epochs' if adj.epochs else ''})" if adj else ""
    return {"lr": lr, "epochs": epochs, "batch_size": u.batch_size, "optimizer": u.optimizer,
            "weight_decay": u.weight_decay, "source": u.source + note}
