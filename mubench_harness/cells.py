"""One cell from start to finish: its original (trained, cached or given), the method's run under
the time or FLO budget, and the evaluation, recorded in the cell's row. The runtime
(:class:`~mubench_harness.execution.Runtime`) holds what cells share; these functions are what one
cell does with it. A failure of any kind is the cell's, recorded with its traceback: nothing raises."""
from __future__ import annotations

import copy
import sys
import time
import traceback
from dataclasses import asdict
from typing import TYPE_CHECKING

from .context import UnlearnContext
from .contracts import seeded
from .data import LOADING, BatchLoading
from .distributed import world_size
from .distributed.engine import consolidated, is_sharded
from .distributed.ranks import broadcast, gather, sum_all
from .grid import Cell, CellOutcome
from .lr_search import searched_rule
from .metrics import Evaluation
from .resources import fit_recipe, synchronize
from .signals import weights_hash
from .store import now
from .training import Budget

if TYPE_CHECKING:  # the runtime is passed in: no import circle with execution
    from .execution import Original, Runtime, Split


def run_cell(rt: Runtime, cell: Cell) -> CellOutcome:
    """Run one cell; never raises: a failure (NaN loss included) is recorded with its traceback."""
    from tqdm.auto import tqdm

    rec = cell.record("running", started=now())
    stages = ["original", "evaluate"] if cell.kind == "original" else ["original", "unlearn", "evaluate"]
    bar = tqdm(stages, desc=f"{cell.label} r{cell.ratio} s{cell.seed}", leave=False, file=sys.stderr,
                      disable=None if rt.progress is None else not rt.progress)
    dl = rt.bench.data_loader
    loading = LOADING.set(BatchLoading(dl.workers, None if dl.pin_memory == "auto" else dl.pin_memory, dl.prefetch))
    try:
        if cell.kind == "original":
            _original_cell(rt, cell, rec, bar)
        else:
            _unlearn_cell(rt, cell, rec, bar)
        rec.status = "done"
    except Exception:  # noqa: BLE001 - cells are isolated
        rec.status = "failed"
        rec.error = traceback.format_exc()
    finally:
        if world_size() > 1:  # a cell failed on any rank failed on all: rank 0 records the first error
            verdicts = gather((rec.status, rec.error))
            failed = [(r, err) for r, (status, err) in enumerate(verdicts) if status == "failed"]
            if failed:
                rec.status, rec.error = "failed", f"rank {failed[0][0]}: {failed[0][1]}"
                # a rank that got through keeps no state the failed one lacks (the original it trained, kept
                # in memory): next time every rank takes the same path, not one training while others wait
                rt.forget_original()
        bar.close()
        LOADING.reset(loading)
        if rt.accelerator is not None:
            # prepare() keeps every model and optimizer it wrapped: let this cell's go
            rt.accelerator.free_memory()
    rec.finished = now()
    return CellOutcome(rec)

def _advance(bar, stage: str) -> None:
    bar.set_postfix_str(stage, refresh=False)
    bar.update(1)

def _original_cell(rt: Runtime, cell: Cell, rec, bar) -> None:
    orig = rt.original(cell)
    _advance(bar, "original ready")
    if not rt.main:  # evaluation reads whole weights: rank 0's alone
        return
    p = rt.prepared(cell.task, cell.model, cell.scale)
    sig = rt.signals_of(cell, orig.model, orig.weights)
    retrain_sig, retrain_s, retrain_f = rt.retrain_reference(cell)
    ev = Evaluation(signals=sig, original=sig, retrain=retrain_sig, **rt._task_facts(cell, p, orig),
                    unlearner="original", seed=cell.seed, seconds=orig.seconds or 0.0, flops=orig.flops or 0.0,
                    retrain_seconds=retrain_s, retrain_flops=retrain_f, notes={"source": orig.source},
                    models=rt._model_access(cell, p, orig.model, orig.model))
    rec.metrics, errors = rt.evaluate(cell, ev)
    _advance(bar, "evaluated")
    rec.seconds, rec.flos, rec.weights = orig.seconds, orig.flops, orig.weights
    rec.notes = {"source": orig.source, "train_size": len(p.train), **_sizes(rt, cell)}
    if orig.source in ("trained", "cache"):
        rec.notes["recipe"] = asdict(rt.recipe(cell))
    _evaluation_notes(rec, ev, errors)

def _budget(rt: Runtime, cell: Cell, orig: Original, sp: Split, retrain: tuple[float | None, float | None]
            ) -> tuple[float | None, str]:
    """The method's allowance in the budget's measure (seconds or FLOs) and where it comes from;
    ``retrain`` is the group's retrain cell's (seconds, FLOs), ``None`` when there is none."""
    frac, measure = rt.bench.budget.max_fraction_of_retrain, rt.bench.budget.measure
    pick = 0 if measure == "seconds" else 1
    if cell.kind == "retrain":
        return None, "retrain is unlimited"
    if retrain[pick] is not None:
        return frac * retrain[pick], "retrain cell"
    trained = (orig.seconds, orig.flops)[pick]
    if trained is not None:
        n = len(sp.forget) + len(sp.retain)
        return frac * trained * len(sp.retain) / n, f"original training {('time', 'FLOs')[pick]} × |Dr|/|D|"
    # an original taken as given (checkpoint): the budget is one epoch of the task's recipe on Dr
    return frac * _one_epoch(rt, cell, orig, sp)[pick], "one epoch of the task recipe on Dr (given original)"

def _one_epoch(rt: Runtime, cell: Cell, orig: Original, sp: Split) -> tuple[float, float]:
    """(seconds, FLOs) of one epoch of the task's recipe on Dr from the original, once per group."""
    key = (cell.task, cell.model, cell.scale, cell.seed, cell.ratio)
    if key not in rt.epoch_cost:
        p = rt.prepared(cell.task, cell.model, cell.scale)
        model = copy.deepcopy(orig.model).requires_grad_(True)
        _, seconds, flops = fit_recipe(p.task, p.built, model, sp.retain, seed=cell.seed, device=rt.device, epochs=1,
                                       recipe=rt.recipe(cell))
        rt.epoch_cost[key] = (seconds, flops)
        rt.work["budget_epoch"] += 1
    return rt.epoch_cost[key]

def _unlearn_cell(rt: Runtime, cell: Cell, rec, bar) -> None:
    orig = rt.original(cell)
    _advance(bar, "original ready")
    p, sp = rt.prepared(cell.task, cell.model, cell.scale), rt.split(cell)
    spec = rt.registry.get("unlearners", cell.unlearner)
    rule = rt.rule_for(cell, spec.name)
    args = rt.v.unlearner_args[cell.label]
    if rule.epochs is not None and "epochs" in type(args).model_fields:  # mubench: the authors' epochs
        args = args.model_copy(update={"epochs": rule.epochs})
    lr_notes = None
    if rt.bench.optimizer.lr_search and rule.name == "paper" and not spec.is_retrain:
        rule, lr_notes = searched_rule(rt, cell, spec, args, rule)  # once per (task, model, scale, method)
    method = spec.load()(args)
    retrain_sig, retrain_s, retrain_f = rt.retrain_reference(cell) if rt.main else (None, None, None)
    # rank 0 knows the retrain cell's cost: every rank gets its allowance
    budget, budget_source = broadcast(_budget(rt, cell, orig, sp, (retrain_s, retrain_f)) if rt.main else None)
    device = rt.device
    task, scale, seed, family = p.task, cell.scale, cell.seed, p.family
    sharded = is_sharded(rt.accelerator)
    if sharded:  # the method reads a sharded copy (ctx.original): the whole original waits on the CPU while it
        orig.model.to("cpu")  # runs (a no-op on a CPU device), and the student is copied from it there
    ctx = None
    try:
        ctx = UnlearnContext(
            task=task,
            model=copy.deepcopy(orig.model).to(device).requires_grad_(True).train(),
            original=orig.model,
            built=p.built,
            forget=sp.forget,
            retain=sp.retain,
            seed=seed,
            fresh_model=lambda s: family.build(task, scale, init="random", seed=s).model.to(device),
            starting_model=lambda: family.build(task, scale, init="pretrained", seed=seed).model.to(device),
            recipe=rt.recipe(cell),
            rule=rule,
            accelerator=rt.accelerator,
            device=device,
        )
        synchronize(device)
        by_flops = rt.bench.budget.measure == "flos"
        # the clock starts with the method
        # each rank meters its own share of the work: FLOs are cut at its share of the allowance
        share = None if budget is None else budget / world_size()
        ctx.budget = Budget(max_flops=share, meter=ctx.meter) if by_flops else Budget(max_seconds=budget)
        start = time.perf_counter()
        with seeded(seed):  # dropout, ViLT's patch sampling: the same draws whatever ran before this cell
            model = method.unlearn(ctx)
        synchronize(device)
        seconds = time.perf_counter() - start
        changed = ctx.original_changed()  # its sharded copy, gathered: every rank gets the same answer
    finally:
        if ctx is not None:
            ctx.release_frozen()
        if sharded:
            orig.model.to(device)
    if changed:
        raise RuntimeError(f"{cell.unlearner} modified the frozen original model (its sharded copy)")
    rt.work["unlearn"] += 1
    _advance(bar, "unlearned")
    ctx.meter.flops = sum_all([ctx.meter.flops])[0]  # every rank's FLOs together
    model = consolidated(model, orig.model, rt.accelerator)  # whole weights, unwrapped (a collective if sharded)
    if not rt.main:  # evaluation reads whole weights: rank 0's alone
        return
    if orig.weights != weights_hash(orig.model):
        raise RuntimeError(f"{cell.unlearner} modified the frozen original model")
    weights = weights_hash(model)
    sig = rt.signals_of(cell, model, weights)
    orig_sig = rt.signals_of(cell, orig.model, orig.weights)
    if cell.kind == "retrain":
        retrain_sig, retrain_s, retrain_f = sig, seconds, ctx.meter.flops
    ev = Evaluation(signals=sig, original=orig_sig, retrain=retrain_sig, **rt._task_facts(cell, p, orig),
                    unlearner=cell.unlearner, seed=seed, seconds=seconds, flops=ctx.meter.flops, retrain_seconds=retrain_s,
                    retrain_flops=retrain_f, notes=dict(ctx.notes), models=rt._model_access(cell, p, model, orig.model))
    rec.metrics, errors = rt.evaluate(cell, ev)
    _advance(bar, "evaluated")
    rec.seconds, rec.flos, rec.cut, rec.weights = seconds, ctx.meter.flops, bool(ctx.result.cut), weights
    rec.budget_seconds = None if by_flops else budget
    rec.optimizer = {"rule": rule.name, "paper_lr": rt.rule.lr, "paper_batch_size": rt.rule.batch_size,
                     "used": ctx.notes.get("optimizer")}
    if rule.name == "mubench":
        rec.optimizer["mubench"] = {"lr": rule.lr, "batch_size": rule.batch_size, "epochs": rule.epochs}
    rec.notes = {**ctx.notes, "budget_source": budget_source, "steps": ctx.result.steps, "epochs": ctx.result.epochs,
                 "original_source": orig.source, **_sizes(rt, cell)}
    if by_flops:
        rec.notes["budget_flops"] = budget
    if lr_notes is not None:  # the candidates' validation scores and the choice
        rec.notes["lr_search"] = lr_notes
    _evaluation_notes(rec, ev, errors)

def _evaluation_notes(rec, ev: Evaluation, errors: dict[str, str]) -> None:
    """What the evaluation said beside its values: failed metrics, values n/a and why, definitions."""
    if errors:
        rec.notes["metric_errors"] = errors
    if ev.na_reasons:
        rec.notes["n/a"] = dict(ev.na_reasons)
    if ev.definitions:
        rec.notes["definitions"] = dict(ev.definitions)


def _sizes(rt: Runtime, cell: Cell) -> dict[str, int]:
    sp = rt.split(cell)
    return {"forget_size": len(sp.forget), "retain_size": len(sp.retain), "retain_sample_size": len(sp.retain_sample),
            **(sp.notes or {})}
