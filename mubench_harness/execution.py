"""What the cells of one ``mubench run`` share: data, encodings, the original model, Df/Dr, signals,
evaluation (one cell's own course is :mod:`mubench_harness.cells`).

Everything expensive is computed once and reused: a task's data per sweep, its encoding per (task,
model, scale), the original per (task, model, scale, seed) (cached on disk by content hash), Df/Dr per
(task, ratio), signals per (weights, split). ``Runtime.work`` counts what was actually computed so
tests can assert that a rerun does nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import Validated, digest
from .context import OptimizerRule
from .contracts import Built, Task
from .data import SPILL_DIR, Rows, column_values
from .encode_cache import EncodeCache
from .preflight import load_tasks
from .metrics import Evaluation, ModelAccess
from .grid import Cell, expand_grid
from .signals import SignalCache, weights_hash
from .resources import build_device, fit_recipe, load_checkpoint, load_verified_original
from .release import checkpoint_of
from .splits import deletion_file, file_notes, forget_indices, retain_indices
from .store import Store
from .distributed import is_main
from .distributed.ranks import broadcast
from .training_recipes import benchmark_recipes, mubench_unlearning


@dataclass
class Prepared:
    """A task encoded for one model family and scale."""

    task: Task
    family: Any
    built: Built  # processor and build info shared by every model of this (family, scale)
    train: Rows
    test: Rows
    ood: Rows | None
    strata: list | None


@dataclass
class Original:
    model: torch.nn.Module  # eval mode, frozen, on the device
    weights: str  # weights hash
    seconds: float | None  # training wall clock (None: taken from a checkpoint)
    flops: float | None
    source: str  # 'trained' | 'cache' | 'checkpoint'


@dataclass
class Split:
    forget: Rows
    retain: Rows
    retain_sample: Rows  # seeded fixed-size sample of Dr for evaluation
    notes: dict = None  # where Df came from when not the unified sets (recorded with every cell)


class Runtime:
    """Caches and resources shared by the cells of one ``mubench run``."""

    def __init__(self, v: Validated, output_dir: Path, store: Store | None, *, progress: bool | None = None, device=None,
                 tasks: dict[str, tuple[Task, Any]] | None = None, owns_folder: bool = True):
        self.v = v
        self.bench = v.bench
        self.registry = v.registry
        self.out = Path(output_dir)
        self.store = store
        self.progress = progress
        self.device, self.accelerator = device or build_device(v.bench, v.base_dir)
        #: only the main rank writes caches and evaluates; the others run each cell's methods in step
        self.main = is_main()
        o = v.bench.optimizer
        self.rule = OptimizerRule(o.rule, lr=o.paper_lr, batch_size=o.paper_batch_size)
        self._recipes = None  # (task, model, scale) -> training recipe, resolved on first use
        self.signals = SignalCache(self.out / "cache" / "signals")
        #: encoded rows across runs (a shared folder across run folders with MUBENCH_ENCODE_CACHE)
        self.encodings = EncodeCache(os.environ.get("MUBENCH_ENCODE_CACHE") or self.out / "cache" / "encoded")
        self.work: Counter[str] = Counter()
        self._tasks: dict[str, tuple[Task, Any]] = dict(tasks or {})
        self.work["load"] += len(self._tasks)
        self._prepared: dict[tuple[str, str, str], Prepared] = {}
        self._original: tuple[tuple, Original] | None = None  # one original in memory at a time
        self._splits: dict[tuple[str, str, str, int], Split] = {}
        self.epoch_cost: dict[tuple, tuple[float, float]] = {}
        self._retrain_keys: dict[tuple, list[str]] | None = None  # group -> this grid's retrain cell keys
        #: key -> {weights, seconds, flos} of done cells, sent by the driver to a remote worker (which has
        #: no results.db) for the retrain reference (:mod:`mubench_harness.executors`)
        self.done_cells: dict[str, dict[str, Any]] = {}
        #: this run's spilled columns (see data.column_buffer), removed when their encoding is dropped; the
        #: output folder is locked to this run, so what is there already was left by a killed run (a remote
        #: executor's worker does not own the folder: the other workers' columns are there)
        if owns_folder:
            shutil.rmtree(self.out / "cache" / "rows", ignore_errors=True)
        self._spill = self.out / "cache" / "rows" / uuid.uuid4().hex[:12]

    def close(self) -> None:
        self._original = None
        self._prepared.clear()
        self._splits.clear()
        shutil.rmtree(self._spill, ignore_errors=True)

    # -- shared, computed once --------------------------------------------------------------------------
    def entry(self, task: str):
        return next(t for t in self.bench.tasks if t.name == task)

    def task(self, name: str) -> tuple[Task, Any]:
        """The task object and its loaded ``DatasetDict``, once per sweep."""
        if name not in self._tasks:
            self._tasks.update(load_tasks(self.v, [name]))
            self.work["load"] += 1
        return self._tasks[name]

    def prepared(self, task_name: str, model: str, scale: str) -> Prepared:
        key = (task_name, model, scale)
        if key not in self._prepared:
            self._prepared.clear()  # encodings of one (task, model, scale) in memory at a time
            self._splits.clear()
            shutil.rmtree(self._spill, ignore_errors=True)  # and their spilled columns on disk
            task, data = self.task(task_name)
            spec = self.registry.get("models", model)
            family = spec.load()(spec)
            built = family.build(task, scale, init="pretrained", seed=0)
            col = task.stratify_column
            strata = column_values(data["train"], col) if col and col in data["train"].column_names else None
            token = SPILL_DIR.set(self._spill)  # a column too large for memory goes to a file here
            try:
                rows_before, hits_before = self.encodings.encoded_rows, self.encodings.hits
                encode = self.encodings.encode
                self._prepared[key] = Prepared(
                    task, family, built, encode(task, data["train"], built), encode(task, data["test"], built),
                    encode(task, data["ood"], built) if "ood" in data else None, strata)
            finally:
                SPILL_DIR.reset(token)
            self.work["encode"] += 1
            self.work["encoded_rows"] += self.encodings.encoded_rows - rows_before
            self.work["encode_cache_hits"] += self.encodings.hits - hits_before
        return self._prepared[key]

    def recipe(self, cell: Cell):
        """The training recipe of the cell's (task, model, scale): original, retraining, budget epoch."""
        if self._recipes is None:
            self._recipes = benchmark_recipes(self.v)
        return self._recipes[(cell.task, cell.model, cell.scale)]

    def rule_for(self, cell: Cell, method: str) -> OptimizerRule:
        """The benchmark's optimiser rule; ``mubench`` resolves per (task, method, ratio) from the task spec."""
        if self.rule.name != "mubench":
            return self.rule
        u = mubench_unlearning(self.registry.get("tasks", cell.task), method, cell.ratio)
        if u is None:  # validation refuses this; a Runtime built by hand gets the same message
            raise ValueError(f"optimizer: mubench: task {cell.task!r} has no MU-Bench unlearning recipe")
        return OptimizerRule("mubench", lr=u["lr"], batch_size=u["batch_size"], optimizer=u["optimizer"],
                             weight_decay=u["weight_decay"], epochs=u["epochs"])

    def split(self, cell: Cell) -> Split:
        key = (cell.task, cell.model, cell.scale, cell.ratio)
        if key not in self._splits:
            p = self.prepared(cell.task, cell.model, cell.scale)
            n = len(p.train)
            ds, notes = deletion_file(self.entry(cell.task).splits, self.v.base_dir), {}
            if ds is None:
                f = forget_indices(n, cell.ratio, self.bench.split_seed, p.strata)
            else:  # exactly the rows the authors' file lists (checked when the data was loaded)
                f = ds.indices(n, cell.ratio)
                notes = file_notes(ds, ds.check(n, [cell.ratio], p.strata))
            r = retain_indices(n, f)
            # one sample of Dr per (task, ratio) for every method and seed: the original's signals
            # on it are computed once per sweep
            rng = np.random.Generator(np.random.PCG64([self.bench.split_seed, cell.ratio]))
            size = min(len(r), len(p.test))
            sample = np.sort(rng.choice(r, size=size, replace=False))
            self._splits[key] = Split(p.train.select(f), p.train.select(r), p.train.select(sample), notes)
        return self._splits[key]

    def original(self, cell: Cell) -> Original:
        key = (cell.task, cell.model, cell.scale, cell.seed)
        if self._original is not None and self._original[0] == key:
            return self._original[1]
        self._original = None
        p = self.prepared(cell.task, cell.model, cell.scale)
        model_entry = next(m for m in self.entry(cell.task).models if m.name == cell.model)
        built = p.family.build(p.task, cell.scale, init="pretrained", seed=cell.seed)
        # None also where the authors' "release" is the family's own checkpoint (ViLT-NLVR2: given)
        checkpoint = checkpoint_of(model_entry.checkpoint, cell.task, cell.model, cell.scale,
                                   self.registry.get("models", cell.model).scales.get(cell.scale), self.v.base_dir)
        if checkpoint:
            load_checkpoint(built.model, checkpoint, self.v.base_dir)
            orig = Original(built.model, "", None, None, "checkpoint")
        elif cell.scale in self.registry.get("models", cell.model).given:
            # the family's pretrained weights ARE the original (an instruction-tuned LLM, ...)
            orig = Original(built.model, "", None, None, "given")
        else:
            orig = self._trained_original(cell, p, built)
        orig.model.to(self.device).eval().requires_grad_(False)
        orig.weights = weights_hash(orig.model)
        self._original = (key, orig)
        return orig

    def forget_original(self) -> None:
        """Drop the original kept in memory (after a cell failed on some rank: every rank starts over alike)."""
        self._original = None

    def _trained_original(self, cell: Cell, p: Prepared, built: Built) -> Original:
        from safetensors.torch import save_model

        r = self.recipe(cell)
        recipe = {k: getattr(r, k) for k in ("epochs", "lr", "batch_size", "optimizer", "weight_decay", "momentum")}
        key = digest({"start": weights_hash(built.model), "data": p.train.digest(), "recipe": recipe,
                      "seed": cell.seed, "task": cell.task, "model": cell.model, "scale": cell.scale})
        folder = self.out / "cache" / "originals"
        path, meta_path = folder / f"{key}.safetensors", folder / f"{key}.json"
        cached = None
        if self.main and path.is_file() and meta_path.is_file():
            cached = self._verified_cache(built.model, path, meta_path)
        if broadcast(cached is not None) and cached is None:  # rank 0 verified it: every rank reads it
            cached = self._verified_cache(built.model, path, meta_path)
        if cached is not None:
            return cached
        model, seconds, flops = fit_recipe(p.task, p.built, built.model, p.train, seed=cell.seed, device=self.device,
                                           accelerator=self.accelerator, recipe=r)
        self.work["train_original"] += 1
        if not self.main:  # rank 0 alone writes caches
            return Original(model, "", seconds, flops, "trained")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_model(model, str(tmp))
        tmp.replace(path)  # atomic: a kill never leaves a half-written checkpoint under its final name
        # the weights hash recorded now is checked before the file is ever used again
        meta_path.write_text(json.dumps({"seconds": seconds, "flops": flops, "recipe": recipe, "seed": cell.seed,
                                         "weights": weights_hash(model)}))
        return Original(model, "", seconds, flops, "trained")

    @staticmethod
    def _verified_cache(model: torch.nn.Module, path: Path, meta_path: Path) -> Original | None:
        """The cached original, only while its weights hash to the value recorded at caching
        (:func:`~mubench_harness.resources.load_verified_original`; ``None``: train it again)."""
        cached = load_verified_original(model, path, meta_path)
        return None if cached is None else Original(cached[0], "", cached[1]["seconds"], cached[1]["flops"], "cache")

    # -- evaluation --------------------------------------------------------------------------------
    def eval_splits(self, cell: Cell) -> dict[str, Rows]:
        p, sp = self.prepared(cell.task, cell.model, cell.scale), self.split(cell)
        splits = {"test": p.test, "forget": sp.forget, "retain": sp.retain_sample}
        if p.ood is not None:
            splits["ood"] = p.ood
        return splits

    def signals_of(self, cell: Cell, model: torch.nn.Module, weights: str) -> dict[str, dict[str, np.ndarray]]:
        p = self.prepared(cell.task, cell.model, cell.scale)
        out = {}
        for split, rows in self.eval_splits(cell).items():
            before = self.signals.passes
            out[split] = self.signals.get(p.task, model, rows, p.built, device=self.device, model_hash=weights)
            self.work["signal_pass"] += self.signals.passes - before
        return out

    def cached_signals(self, cell: Cell, weights: str) -> dict[str, dict[str, np.ndarray]] | None:
        """Signals of a model that is no longer in memory (a retrain cell of an earlier run)."""
        task = self.prepared(cell.task, cell.model, cell.scale).task
        out = {}
        for split, rows in self.eval_splits(cell).items():
            sig = self.signals.lookup(task, weights, rows)
            if sig is None:
                return None
            out[split] = sig
        return out

    def retrain_reference(self, cell: Cell):
        """(signals, seconds, flops) of the group's first retrain cell *of this benchmark's grid*, if it is
        done. Looked up by its key, which holds the settings hash: a retrain cell an earlier configuration
        left in the database (other method args, task settings, budget) is never taken as the reference."""
        if self._retrain_keys is None:
            self._retrain_keys = {}
            for c in expand_grid(self.v):
                if c.kind == "retrain":
                    self._retrain_keys.setdefault(c.group, []).append(c.key)
        for key in self._retrain_keys.get(cell.group, []):
            row = (self.done_cells.get(key) if self.store is None else
                   self.store.db.execute("SELECT * FROM cells WHERE key=? AND status='done'", (key,)).fetchone())
            if row is not None:
                return self.cached_signals(cell, row["weights"]), row["seconds"], row["flos"]
        return None, None, None

    def _task_facts(self, cell: Cell, p: Prepared, orig: Original) -> dict[str, Any]:
        """What metrics need to know about the task and the original beyond signals: the chance levels,
        and whether Df/Dr are members of the original's training data at all."""
        task = p.task
        spec = self.registry.get("models", cell.model)
        not_members = None
        if orig.source == "given" and cell.task not in getattr(spec, "given_members", ()):
            not_members = (f"the original {cell.model}:{cell.scale} is taken as given and was not trained on "
                           f"{cell.task}'s training set: Df, Dr and test are all non-members")
        num_classes = getattr(task, "num_classes", None) if task.kind == "classification" else None
        return {"chance": task.chance(p.train), "kind": task.kind, "num_classes": num_classes, "not_members": not_members}

    def _model_access(self, cell: Cell, p: Prepared, model, original) -> ModelAccess:
        """The models behind a cell's signals, for the metrics that attack a copy (quantisation, relearning)."""
        return ModelAccess(model=model, original=original, task=p.task, built=p.built, splits=self.eval_splits(cell),
                           device=self.device)

    def evaluate(self, cell: Cell, ev: Evaluation) -> tuple[dict[str, float | None], dict[str, str]]:
        values: dict[str, float | None] = {}
        errors: dict[str, str] = {}
        for name in self.v.metric_names:
            spec = self.registry.get("metrics", name)
            try:
                # the benchmark's arguments for this metric (metrics: entries), else its defaults
                args = self.v.metric_args.get(name)
                metric = spec.load()(spec.args() if args is None else args)
                values.update(metric.compute(ev) or {})
            except Exception:  # noqa: BLE001 - one metric's failure does not fail the cell
                errors[name] = traceback.format_exc(limit=-3)
        return values, errors
