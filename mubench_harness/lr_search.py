"""The paper's learning-rate search (``optimizer: {rule: paper, lr_search: [...]}``).

MU-Bench (appendix A.2) runs every method with Adam and batch 32 and "search[es] for the best learning
rate". Here the search is made once per (task, model, scale, method): each candidate lr runs the method
from the original on Df and on Dr minus a validation split, and the lr whose model scores best on that
validation split (the task's own ``score``, mean over its rows) is used by every seed and ratio of the
(task, model, scale, method). The validation split is carved from Dr with the split seed, so the choice
never reads test or Df (Df is what the method unlearns, never what it is judged on). Ties go to the
candidate listed first. The search runs on the benchmark's first seed and first deletion ratio.

Note: judged on retained utility alone, the search prefers the lr that disturbs the model least; the
candidates' scores are recorded with every cell so a reader sees how flat the choice was.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from .config import digest
from .signals import compute_signals

#: share of Dr held out to judge the candidates
VALIDATION_FRACTION = 0.1


def carve_validation(n_retain: int, split_seed: int, ratio: int, fraction: float = VALIDATION_FRACTION
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Positions within Dr: (kept for unlearning, validation), both sorted, drawn from the split seed."""
    rng = np.random.Generator(np.random.PCG64([split_seed, ratio, 0x1A5E]))
    order = rng.permutation(n_retain)
    size = max(1, int(round(n_retain * fraction)))
    return np.sort(order[size:]), np.sort(order[:size])


@dataclass
class LrChoice:
    chosen: float
    scores: dict[str, float]  # candidate lr (as written) -> mean validation score
    validation_size: int
    seed: int
    ratio: int
    carved_from: str = "Dr (split seed)"

    def notes(self) -> dict:
        return asdict(self)


def choose(candidates: Sequence[float], unlearn: Callable[[float], object], score: Callable[[object], float]) -> tuple[float, dict[str, float]]:
    """Run ``unlearn(lr)`` for each candidate, ``score`` each result; the best (first on ties) and all scores."""
    scores = {}
    for lr in candidates:
        scores[repr(float(lr))] = float(score(unlearn(float(lr))))
    best = max(candidates, key=lambda lr: (scores[repr(float(lr))], -list(candidates).index(lr)))
    return float(best), scores


def searched_rule(runtime, cell, spec, args, rule):
    """The ``paper`` rule with the searched lr for ``cell``'s (task, model, scale, method), and the notes
    to record; computed once per run (and cached on disk in the run folder)."""
    from .context import UnlearnContext

    bench = runtime.bench
    cache = runtime.__dict__.setdefault("_lr_choices", {})
    key = (cell.task, cell.model, cell.scale, cell.label)
    if key not in cache:
        first = replace(cell, seed=bench.seeds[0], ratio=bench.deletion_ratios[0])
        file = runtime.out / "cache" / "lr_search" / f"{digest([list(key), cell.settings, bench.split_seed])}.json"
        if file.is_file():
            cache[key] = LrChoice(**json.loads(file.read_text()))
        else:
            cache[key] = _search(runtime, first, spec, args, rule, UnlearnContext)
            if runtime.main:
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(json.dumps(cache[key].notes()))
            runtime.work["lr_search"] += 1
    choice = cache[key]
    return replace(rule, lr=choice.chosen), choice.notes()


def _search(runtime, cell, spec, args, rule, UnlearnContext) -> LrChoice:
    from .contracts import seeded

    orig = runtime.original(cell)
    p, sp = runtime.prepared(cell.task, cell.model, cell.scale), runtime.split(cell)
    kept, held = carve_validation(len(sp.retain), runtime.bench.split_seed, cell.ratio)
    retain, validation = sp.retain.select(kept), sp.retain.select(held)
    device, task, family = runtime.device, p.task, p.family

    def unlearn(lr: float):
        ctx = UnlearnContext(
            task=task, model=copy.deepcopy(orig.model).requires_grad_(True).train(), original=orig.model,
            built=p.built, forget=sp.forget, retain=retain, seed=cell.seed,
            fresh_model=lambda s: family.build(task, cell.scale, init="random", seed=s).model.to(device),
            starting_model=lambda: family.build(task, cell.scale, init="pretrained", seed=cell.seed).model.to(device),
            recipe=runtime.recipe(cell), rule=replace(rule, lr=lr), device=device)
        with seeded(cell.seed):
            return spec.load()(args).unlearn(ctx)

    def score(model) -> float:
        return float(np.mean(compute_signals(task, model, validation, p.built, device=device)["score"]))

    best, scores = choose(runtime.bench.optimizer.lr_search, unlearn, score)
    return LrChoice(best, scores, len(validation), cell.seed, cell.ratio)
