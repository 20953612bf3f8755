"""Testing kit: a ready toy setting and contract test classes every plugin's test-suite reuses.

    from mubench_harness.testing import UnlearnerContract

    class TestScrub(UnlearnerContract):
        name = "scrub"
        args = {"epochs": 2}

Each contract class is a plain pytest class; subclasses set a few attributes and get the same checks.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ..context import OptimizerRule, UnlearnContext
from ..contracts import Built, Task
from ..data import Rows
from ..plugins import load_registry
from ..splits import forget_indices, retain_indices
from ..training import Budget, OptimizerConfig, Phase, make_optimizer, run_loop


@functools.lru_cache(maxsize=1)
def registry():
    return load_registry()


def build_task(name: str, **args) -> Task:
    spec = registry().get("tasks", name)
    return spec.load()(spec.args(**args))


def build_family(name: str):
    spec = registry().get("models", name)
    return spec.load()(spec)


def train_original(task: Task, built: Built, rows: Rows, *, seed: int = 0, epochs: int | None = None) -> torch.nn.Module:
    """Train ``built.model`` with the task's recipe through the shared loop (what the runner does)."""
    r = task.recipe
    opt = make_optimizer(built.model.parameters(), OptimizerConfig(name=r.optimizer, lr=r.lr, weight_decay=r.weight_decay, momentum=r.momentum))
    phase = Phase("train", rows, r.batch_size, lambda m, b: task.per_sample_loss(m, task.prepare_batch(b, built)).mean())
    run_loop(built.model, lambda e: [phase], epochs=epochs or r.epochs, optimizer=opt, seed=seed)
    return built.model.eval()


@dataclass
class Setting:
    """A trained original model on a task with its Df/Dr, ready to hand to an unlearner."""

    task: Task
    family: Any
    scale: str
    built: Built
    original: torch.nn.Module
    train: Rows
    test: Rows
    forget: Rows
    retain: Rows
    ood: Rows | None

    def context(self, seed: int = 0, *, rule: OptimizerRule | None = None, budget: Budget | None = None) -> UnlearnContext:
        original = copy.deepcopy(self.original).eval().requires_grad_(False)
        return UnlearnContext(
            task=self.task,
            model=copy.deepcopy(self.original).train(),
            original=original,
            built=self.built,
            forget=self.forget,
            retain=self.retain,
            seed=seed,
            fresh_model=lambda s: self.family.build(self.task, self.scale, init="random", seed=s).model,
            starting_model=lambda: self.family.build(self.task, self.scale, init="pretrained", seed=seed).model,
            recipe=self.task.recipe,
            rule=rule or OptimizerRule(),
            budget=budget or Budget(),
        )


@functools.lru_cache(maxsize=8)
def setting(task: str = "toy_blobs", model: str = "toy_mlp", scale: str = "tiny", ratio: int = 10,
            source: str = "mini", seed: int = 0, epochs: int | None = None) -> Setting:
    """A cached trained setting. Treat it as read-only: contexts hand out deep copies."""
    t = build_task(task)
    fam = build_family(model)
    data = t.load(source)
    built = fam.build(t, scale, init="pretrained", seed=seed)
    train = t.encode(data["train"], built)
    strata = data["train"][t.stratify_column] if t.stratify_column else None
    f = forget_indices(len(train), ratio, 42, strata)
    original = train_original(t, built, train, seed=seed, epochs=epochs)
    return Setting(t, fam, scale, built, original, train, t.encode(data["test"], built), train.select(f),
                   train.select(retain_indices(len(train), f)), t.encode(data["ood"], built) if "ood" in data else None)


def accuracy(task: Task, model: torch.nn.Module, rows: Rows, built: Built | None = None) -> float:
    model.eval()
    with torch.no_grad():
        scores = [task.score(model, task.prepare_batch(b, built)) for b in rows.batches(256)]
    return float(torch.cat(scores).mean())


@dataclass
class MiniFit:
    """A tiny model trained on a task's mini train split, with its train and test accuracy."""

    task: Task
    built: Built
    model: torch.nn.Module
    train: Rows
    test: Rows
    train_accuracy: float
    test_accuracy: float

    @property
    def accuracies(self) -> tuple[float, float]:
        return self.train_accuracy, self.test_accuracy


def fit_on_mini(task_name: str, model: str, *, scale: str = "tiny", seed: int = 0) -> MiniFit:
    """Train ``model`` on the task's mini train split with the task's recipe (what the runner does):
    the check that a task's mini data is learnable and that the model memorises its train split."""
    task, family = build_task(task_name), build_family(model)
    data = task.load("mini")  # before the build: a tiny tokenizer is fitted on the loaded source
    built = family.build(task, scale, seed=seed)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    trained = train_original(task, built, train, seed=seed)
    return MiniFit(task, built, trained, train, test, accuracy(task, trained, train, built), accuracy(task, trained, test, built))


def check_mini_builder_is_deterministic(build_mini, args: tuple, reseeded_args: tuple, columns: tuple[str, ...]) -> None:
    """``build_mini`` is a task's ``functools.lru_cache``'d mini builder. Its uncached function gives
    equal ``columns`` in every split for equal ``args``, and another train split (``columns[0]``) for
    ``reseeded_args``: the mini data depends on its seed alone, not on the in-process cache."""
    build = build_mini.__wrapped__
    a, b = build(*args), build(*args)
    assert a is not b and all(a[s][c] == b[s][c] for s in a for c in columns)
    assert build(*reseeded_args)["train"][columns[0]] != a["train"][columns[0]]


class SpillContract:
    """For a task that writes a large column block by block through ``data.column_buffer``: forced to
    disk (blocks of 4 rows, so several are written), its rows read back equal the in-memory encoding.

        class TestSpill(SpillContract):
            name, family, module = "ucf101", "videomae", "mubench_ucf101.task"
    """

    name: ClassVar[str]  # the task
    family: ClassVar[str]  # a model family serving it (tiny scale)
    module: ClassVar[str]  # the task's module, whose ``ENCODE_BLOCK`` sets the rows per block
    column: ClassVar[str] = "pixel_values"

    def test_large_encodings_spill_to_disk_block_by_block(self, tmp_path, monkeypatch):
        import importlib

        from ..data import SPILL_DIR, DiskColumn

        monkeypatch.setattr(importlib.import_module(self.module), "ENCODE_BLOCK", 4)
        task = build_task(self.name)
        dataset = task.load("mini")["train"].select(range(10))
        built = build_family(self.family).build(task, "tiny", seed=0)
        memory = task.encode(dataset, built)
        monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
        token = SPILL_DIR.set(tmp_path)
        try:
            disk = task.encode(dataset, built)
        finally:
            SPILL_DIR.reset(token)
        assert isinstance(disk[self.column], DiskColumn), f"{self.column} was not written through column_buffer"
        assert disk.columns.keys() == memory.columns.keys()
        for a, b in zip(memory.batches(7), disk.batches(7)):
            assert all(torch.equal(a[k], b[k]) for k in a), "spilled rows differ from the in-memory ones"


def params_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


#: what a plugin's top module must not import (listing plugins must stay fast)
HEAVY_MODULES = ("torch", "transformers", "diffusers", "deepspeed", "peft", "accelerate", "datasets")


class UnlearnerContract:
    """Checks every unlearner plugin must pass on the toy setting."""

    name: ClassVar[str]
    args: ClassVar[dict[str, Any]] = {}
    task: ClassVar[str] = "toy_blobs"
    model: ClassVar[str] = "toy_mlp"

    def _make(self, **extra):
        spec = registry().get("unlearners", self.name)
        return spec, spec.load()(spec.args(**{**self.args, **extra}))

    def test_spec_is_registered_and_light(self):
        import subprocess
        import sys

        spec = registry().get("unlearners", self.name)
        assert spec.summary and spec.factory.count(":") == 1
        assert spec.taxonomy, "state the method's place in the paper's taxonomy"
        # light: importing the plugin's top module (what listing plugins does) imports no heavy
        # library; a fresh interpreter, since this one imported torch long ago
        top = spec.factory.split(":")[0].split(".")[0]
        probe = (f"import sys, {top}; print(' '.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert not done.stdout.strip(), f"importing {top} imports {done.stdout.strip()}: keep them in the factory's module"

    def test_default_args_validate(self):
        spec = registry().get("unlearners", self.name)
        spec.args()  # every argument has a documented default

    def test_unknown_arg_is_rejected(self):
        import pydantic
        import pytest

        spec = registry().get("unlearners", self.name)
        with pytest.raises(pydantic.ValidationError):
            spec.args(no_such_argument=1)

    def test_unlearn_changes_model_and_leaves_original(self):
        st = setting(self.task, self.model)
        ctx = st.context(seed=0)
        before = copy.deepcopy(ctx.original.state_dict())
        _, method = self._make()
        out = method.unlearn(ctx)
        assert isinstance(out, torch.nn.Module)
        assert all(torch.equal(before[k], v) for k, v in ctx.original.state_dict().items()), "original was modified"
        assert not params_equal(out, st.original), "the method did not change the model"
        for p in out.parameters():
            assert torch.isfinite(p).all()

    def test_same_seed_same_result(self):
        st = setting(self.task, self.model)
        _, method = self._make()
        a = method.unlearn(st.context(seed=3))
        b = method.unlearn(st.context(seed=3))
        assert params_equal(a, b)

    def test_budget_cuts_the_method(self):
        st = setting(self.task, self.model)
        _, method = self._make()
        ctx = st.context(seed=0, budget=Budget(max_seconds=0.0))
        method.unlearn(ctx)
        assert ctx.result.cut, "a method must run through ctx.train so the budget can stop it"


class TaskContract:
    """Checks every task plugin must pass with its tiny model on its mini source."""

    name: ClassVar[str]
    model: ClassVar[str]
    scale: ClassVar[str] = "tiny"
    source: ClassVar[str] = "mini"

    def _task(self):
        return build_task(self.name)

    def test_spec(self):
        spec = registry().get("tasks", self.name)
        assert self.source in spec.sources and spec.summary

    def test_mini_is_deterministic_with_train_and_test(self):
        a, b = self._task().load(self.source), self._task().load(self.source)
        assert {"train", "test"} <= set(a)
        assert a["train"].features == a["test"].features
        assert a["train"][:5] == b["train"][:5] and len(a["train"]) == len(b["train"])

    def test_primitives_shapes(self):
        task = self._task()
        built = build_family(self.model).build(task, self.scale, seed=0)
        data = task.load(self.source)
        rows = task.encode(data["train"].select(range(8)), built)
        assert {"labels", "idx"} <= set(rows.columns)
        batch = task.prepare_batch(next(rows.batches(4)), built)
        loss = task.per_sample_loss(built.model, batch)
        assert loss.shape == (4,) and torch.isfinite(loss).all()
        score = task.score(built.model, batch)
        assert score.shape == (4,) and ((score >= 0) & (score <= 1)).all()
        sig = task.signals(built.model, batch)
        assert {"loss", "score", "p_true", "entropy", "margin"} <= set(sig)
        assert torch.allclose(sig["loss"], loss, atol=1e-4)

    def test_corrupt_changes_every_target(self):
        task = self._task()
        built = build_family(self.model).build(task, self.scale, seed=0)
        data = task.load(self.source)
        rows = task.encode(data["train"].select(range(min(64, len(data["train"])))), built)
        corrupted = task.corrupt(rows, rows, torch.Generator().manual_seed(0))
        assert len(corrupted) == len(rows)
        assert torch.equal(corrupted["idx"], rows["idx"])
        differs = (corrupted["labels"] != rows["labels"]).reshape(len(rows), -1).any(1)
        assert differs.all(), "RandLabel's corruption must never keep the true target"


class ModelContract:
    """Checks every model family must pass at its tiny scale."""

    name: ClassVar[str]
    task: ClassVar[str]

    def test_spec_scales(self):
        spec = registry().get("models", self.name)
        assert "tiny" in spec.scales and spec.scales["tiny"] is None
        assert set(spec.given) <= set(spec.scales) - {"tiny"}, "the tiny scale is trained on the mini data"

    def test_serves_its_task_and_no_unfit_one(self):
        import dataclasses

        spec = registry().get("models", self.name)
        task = registry().get("tasks", self.task)
        assert spec.serves_task(task)
        unfit = dataclasses.replace(task, name="unfit", kind="unfit-kind", modality="unfit-modality")
        assert not spec.serves_task(unfit), "a family serves some kinds / modalities, not every task"

    def test_tiny_build_is_seeded(self):
        task = build_task(self.task)
        fam = build_family(self.name)
        a = fam.build(task, "tiny", init="random", seed=1).model
        b = fam.build(task, "tiny", init="random", seed=1).model
        c = fam.build(task, "tiny", init="random", seed=2).model
        assert params_equal(a, b) and not params_equal(a, c)

    def test_unknown_scale_is_an_error(self):
        import pytest

        with pytest.raises((KeyError, ValueError)):
            build_family(self.name).build(build_task(self.task), "no-such-scale", seed=0)


def forget_membership(rows: Rows, forget: Rows) -> np.ndarray:
    """Boolean mask over ``rows``: which rows are in Df (by training-set position)."""
    return np.isin(rows["idx"].numpy(), forget["idx"].numpy())
