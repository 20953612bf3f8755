"""Benchmark files: pydantic models of the YAML and its two-phase validation.

Phase 1 (structure) reads the YAML with every node's location (:mod:`.located`), so each error names
``FILE:LINE:COL`` of the offending key or value, and validates it with the models below. Phase 2 checks the file
against the installed plugins: names (with "did you mean"), scales, which families serve which tasks,
which methods apply to which tasks, and each component's own ``args`` model.

Importing this module imports no torch: ``mubench validate`` answers in about a second.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .located import ConfigError, Loc, Located, load_located, pydantic_error, value_loc

__all__ = ["Benchmark", "ConfigError", "Validated", "digest", "load_located", "parse_structure", "validate"]


class Strict(BaseModel):
    # strict: "3" is not silently an int and 1 is not silently a string
    model_config = ConfigDict(extra="forbid", strict=True)


def _shorthand(key: str):
    """Accept ``- neggrad`` for ``- {name: neggrad}`` (and ``optimizer: paper`` for ``{rule: paper}``)."""

    def convert(cls, value):
        return {key: value} if isinstance(value, str) else value

    return model_validator(mode="before")(classmethod(convert))


class RecipeOverride(Strict):
    """``recipe:`` of a model entry: replaces fields of the training recipe the task gives this model
    (for the original and for retraining); a field left out keeps the task's value."""

    lr: float | None = Field(None, gt=0)
    epochs: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    weight_decay: float | None = Field(None, ge=0)
    optimizer: Literal["adam", "adamw", "sgd"] | None = None
    momentum: float | None = Field(None, ge=0)


class ReleaseCheckpoint(Strict):
    """``checkpoint: {from: mubench-release}``: the original the MU-Bench authors released for (task,
    model:scale) (:mod:`mubench_harness.release`), from the hub or a local ``mirror`` laid out as it."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    from_: Literal["mubench-release"] = Field(alias="from")
    #: a folder laid out as the hub (``<mirror>/<org>/<name>/model.safetensors``), relative to the file
    mirror: str | None = None


class ModelEntry(Strict):
    name: str
    scales: list[str] = Field(default_factory=lambda: ["tiny"], min_length=1)
    #: an already-trained original: a local safetensors file (or a folder holding ``model.safetensors``)
    #: or a hub repository id, or ``{from: mubench-release}`` (the authors' released original per scale).
    #: Without it the harness trains the original with the task's recipe.
    checkpoint: str | ReleaseCheckpoint | None = None
    #: fields of the task's training recipe replaced for this model's scales
    recipe: RecipeOverride | None = None
    _short = _shorthand("name")

    @field_validator("scales")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("scales are listed twice")
        return v


class SplitsBlock(Strict):
    """``splits: {from: file, path: df/imdb.txt}``: Df is exactly the rows the authors' file lists (a
    10 % file of training-row indices, a k % run takes its first k-tenths); ``layout: mask`` reads a
    folder with a 0/1 file per ratio (their UCF101). ``from: unified`` is the default."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    from_: Literal["unified", "file"] = Field("unified", alias="from")
    path: str | None = None
    layout: Literal["indices", "mask"] = "indices"

    @model_validator(mode="after")
    def _path(self):
        if (self.from_ == "file") != (self.path is not None):
            raise ValueError("from: file needs a path (and only from: file takes one)")
        return self


class TaskEntry(Strict):
    name: str
    source: Literal["mini", "hub"] = "mini"
    args: dict[str, Any] = Field(default_factory=dict)
    #: a local dataset folder or mirror used by the ``hub`` source instead of the hub
    path: str | None = None
    models: list[ModelEntry] = Field(min_length=1)
    #: where Df comes from: the unified sets (default) or the MU-Bench authors' files
    splits: SplitsBlock | None = None


class UnlearnerEntry(Strict):
    name: str
    #: tells apart two argument sets of one method (``neggrad`` at two learning rates)
    label: str | None = Field(None, pattern=r"^[A-Za-z0-9_.+=-]+$")
    args: dict[str, Any] = Field(default_factory=dict)
    _short = _shorthand("name")

    @property
    def display(self) -> str:
        return self.label or self.name


class OptimizerBlock(Strict):
    """``authors``: each method's own recipe. ``paper``: MU-Bench's rule (Adam, batch 32, one lr).
    ``mubench``: the MU-Bench authors' code (per task lr, epochs and batch, adjusted per method)."""

    rule: Literal["authors", "paper", "mubench"] = "authors"
    paper_lr: float = Field(1e-4, gt=0)
    paper_batch_size: int = Field(32, ge=1)
    #: ``rule: paper`` only: learning rates tried per (task, model, scale, method), the one scoring best
    #: on a validation split carved from Dr is used (:mod:`mubench_harness.lr_search`)
    lr_search: list[Annotated[float, Field(gt=0)]] | None = Field(None, min_length=2)
    _short = _shorthand("rule")

    @model_validator(mode="after")
    def _search(self):
        if self.lr_search is not None and self.rule != "paper":
            raise ValueError("lr_search needs rule: paper (the paper searched the learning rate)")
        if self.lr_search is not None and len(set(self.lr_search)) != len(self.lr_search):
            raise ValueError("lr_search lists a learning rate twice")
        return self


class BudgetBlock(Strict):
    #: a method may use at most this fraction of retraining's cost (the paper: 1.0 of its wall clock)
    max_fraction_of_retrain: float = Field(1.0, gt=0)
    #: what the cost is: ``seconds`` (the paper's wall clock: results depend on the machine's speed where
    #: a method is cut) or ``flos`` (counted FLOs, teacher and mask passes included: the same cut anywhere)
    measure: Literal["seconds", "flos"] = "seconds"


class DistributedBlock(Strict):
    """How one cell runs across the ranks ``torchrun``/``accelerate launch`` (or ``mubench run --launcher``)
    started; in one unlaunched process every backend is one rank. The runner builds an
    ``accelerate.Accelerator`` from it (:mod:`mubench_harness.distributed.engine`): ``accelerate`` is data
    parallel (DDP), ``deepspeed`` ZeRO stage ``zero_stage`` (or the user's DeepSpeed JSON ``config``,
    passed through), ``fsdp`` Accelerate's FSDP2 plugin (full sharding)."""

    backend: Literal["none", "accelerate", "deepspeed", "fsdp"] = "none"
    zero_stage: int = Field(0, ge=0, le=3)
    #: a DeepSpeed JSON file, relative to the benchmark file (``deepspeed`` only)
    config: str | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.backend != "deepspeed" and (self.zero_stage or self.config):
            raise ValueError(f"{'zero_stage' if self.zero_stage else 'config'} needs backend: deepspeed")
        if self.backend == "deepspeed" and not (self.zero_stage or self.config):
            raise ValueError("backend deepspeed needs zero_stage (1, 2 or 3) or a DeepSpeed JSON config")
        return self


class DataLoaderBlock(Strict):
    """``data_loader: {workers: 2}``: batches gathered by ``workers`` DataLoader processes, ``prefetch``
    batches ahead each, into pinned memory (``pin_memory: auto`` = where the device is a GPU). The default,
    ``workers: 0``, builds each batch in the training process (fastest on CPU). Results are bit-identical
    either way: the order of rows is drawn in the training process."""

    workers: int = Field(0, ge=0)
    pin_memory: Literal["auto", True, False] = "auto"
    prefetch: int = Field(2, ge=1)


class ExecutorBlock(BaseModel):
    """``executor: {use: ray, address: auto, cpus_per_cell: 2}``: where the cells run. ``use`` names an
    installed executor (``mubench list executors``); every other key is that executor's own argument,
    checked by its args model (an unknown key is an error located at it)."""

    model_config = ConfigDict(extra="allow", strict=True)
    use: str = "local"

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Benchmark(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    output_dir: str | None = None  # default: runs/<name>, relative to the working directory
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    split_seed: int = 42
    #: whole percents of the training set, 1..10 (the paper's unified deletion ratios)
    deletion_ratios: list[Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=lambda: list(range(1, 11)), min_length=1)
    tasks: list[TaskEntry] = Field(min_length=1)
    unlearners: list[UnlearnerEntry] = Field(min_length=1)
    metrics: list[str] | None = None  # None: every installed metric that is not opt-in
    optimizer: OptimizerBlock = Field(default_factory=OptimizerBlock)
    budget: BudgetBlock = Field(default_factory=BudgetBlock)
    device: Literal["cpu", "auto", "cuda"] = "cpu"
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    distributed: DistributedBlock = Field(default_factory=DistributedBlock)
    data_loader: DataLoaderBlock = Field(default_factory=DataLoaderBlock)
    executor: ExecutorBlock = Field(default_factory=ExecutorBlock)

    @field_validator("deletion_ratios")
    @classmethod
    def _ratios(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("a deletion ratio is listed twice")
        return v

    @field_validator("mixed_precision", mode="before")
    @classmethod
    def _yaml_no(cls, v):
        # YAML 1.1 reads an unquoted `no` as false; mean what the user wrote
        return "no" if v is False else v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("a seed is listed twice")
        return v


# --------------------------------------------------------------------------------------------------
# Phase 1: structure
# --------------------------------------------------------------------------------------------------
def parse_structure(path: str | Path) -> tuple[Benchmark, Located]:
    """Phase 1: YAML → :class:`Benchmark`, every error located."""
    doc = load_located(path)
    try:
        bench = Benchmark.model_validate(doc.data)
    except ValidationError as exc:
        raise pydantic_error(doc, exc) from None
    return bench, doc


# --------------------------------------------------------------------------------------------------
# Phase 2: against the installed plugins
# --------------------------------------------------------------------------------------------------
@dataclass
class Validated:
    """A benchmark that passed both phases, with its parsed component arguments."""

    bench: Benchmark
    doc: Located
    registry: Any
    task_args: dict[str, Any]  # task name -> args model instance
    unlearner_args: dict[str, Any]  # display label -> args model instance
    metric_names: list[str]
    #: (task, unlearner label) pairs left out of the grid: the method does not apply to the task kind
    skipped: list[tuple[str, str]] = field(default_factory=list)
    base_dir: Path = Path(".")
    #: (task, model, scale) whose original is taken as given: their retrain cells are left out of the grid
    given: list[tuple[str, str, str]] = field(default_factory=list)
    #: the ``executor:`` block's arguments, parsed by the named executor's args model
    executor_args: Any = None

    @property
    def output_dir(self) -> Path:
        return Path(self.bench.output_dir or f"runs/{self.bench.name}")

    def resolve(self, path: str) -> Path:
        """Paths in the file are relative to the file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


def check_plugins(bench: Benchmark, doc: Located, registry) -> Validated:
    """Phase 2: names, scales, applicability and each component's own args."""
    from .plugins import PluginError

    def get(kind: str, name: str, loc: Loc):
        try:
            return registry.get(kind, name)
        except PluginError as exc:
            raise doc.error(value_loc(doc, loc), str(exc)) from None

    base_dir = Path(doc.file).resolve().parent

    def args_of(spec, raw: dict, loc: Loc, **context):
        try:  # the context lets LocalPath args resolve relative paths from the benchmark file's folder
            # (and a task's args fill per-source defaults from its ``source``)
            return spec.args.model_validate(raw, context={"base_dir": base_dir, **context})
        except ValidationError as exc:
            err = exc.errors()[0]
            inner = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                raise doc.error(loc + inner, f"{spec.name}: unknown argument {inner[-1]!r}") from None
            msg = err["msg"].removeprefix("Value error, ")
            arg = ".".join(map(str, inner)) or "args"
            raise doc.error(value_loc(doc, loc + inner), f"{spec.name}: argument {arg}: {msg}") from None

    task_args: dict[str, Any] = {}
    task_specs = {}
    for i, t in enumerate(bench.tasks):
        loc = ("tasks", i)
        if t.name in task_specs:
            raise doc.error(loc + ("name", "<value>"), f"task {t.name!r} is listed twice")
        spec = get("tasks", t.name, loc + ("name",))
        task_specs[t.name] = spec
        if t.source not in spec.sources:
            raise doc.error(value_loc(doc, loc + ("source",)) if "source" in doc.data["tasks"][i] else loc,
                            f"task {t.name!r} has no {t.source!r} source (it has: {', '.join(spec.sources)})")
        task_args[t.name] = args_of(spec, t.args, loc + ("args",), source=t.source)
        if t.path is not None and "path" not in spec.args.model_fields:
            raise doc.error(value_loc(doc, loc + ("path",)), f"task {t.name!r} takes no local dataset path")
        if t.path is not None and not _resolve(base_dir, t.path).exists():
            raise doc.error(value_loc(doc, loc + ("path",)), f"dataset path {t.path!r} does not exist")
        seen_models = set()
        for j, m in enumerate(t.models):
            mloc = loc + ("models", j)
            mspec = get("models", m.name, mloc + ("name",) if isinstance(doc.data["tasks"][i]["models"][j], dict) else mloc)
            if m.name in seen_models:
                raise doc.error(mloc, f"model {m.name!r} is listed twice for task {t.name!r}")
            seen_models.add(m.name)
            if not mspec.serves_task(spec):
                raise doc.error(mloc, f"model {m.name!r} does not serve task {t.name!r} ({spec.kind}, {spec.modality}); "
                                      f"it serves: {', '.join(mspec.serves) or 'nothing'}")
            for k, scale in enumerate(m.scales):
                if scale not in mspec.scales:
                    raise doc.error(value_loc(doc, mloc + ("scales", k)),
                                    f"model {m.name!r} has no scale {scale!r} (scales: {', '.join(mspec.scales)})")
            if isinstance(m.checkpoint, str) and _looks_like_path(m.checkpoint) and not _resolve(base_dir, m.checkpoint).exists():
                raise doc.error(value_loc(doc, mloc + ("checkpoint",)), f"checkpoint file {m.checkpoint!r} does not exist")
            if isinstance(m.checkpoint, ReleaseCheckpoint):
                _check_release(doc, mloc + ("checkpoint",), t.name, m, mspec, base_dir)
        if t.splits is not None and t.splits.path is not None and not _resolve(base_dir, t.splits.path).exists():
            raise doc.error(value_loc(doc, loc + ("splits", "path")), f"deletion-set path {t.splits.path!r} does not exist")

    unlearner_args: dict[str, Any] = {}
    skipped: list[tuple[str, str]] = []
    for i, u in enumerate(bench.unlearners):
        loc = ("unlearners", i)
        entry = doc.data["unlearners"][i]
        spec = get("unlearners", u.name, loc + ("name",) if isinstance(entry, dict) else loc)
        if u.display in unlearner_args:
            raise doc.error(loc, f"unlearner {u.display!r} is listed twice; give one a distinct 'label'")
        unlearner_args[u.display] = args_of(spec, u.args, loc + ("args",))
        applies = [t for t in bench.tasks if task_specs[t.name].kind in spec.applies_to]
        if not applies:
            kinds = sorted({task_specs[t.name].kind for t in bench.tasks})
            raise doc.error(loc, f"unlearner {u.name!r} does not apply to any task of this benchmark "
                                 f"(task kinds: {', '.join(kinds)}; it applies to: {', '.join(spec.applies_to)})")
        skipped += [(t.name, u.display) for t in bench.tasks if t not in applies]

    if bench.optimizer.rule == "mubench":
        # the MU-Bench authors' code gives unlearning settings for some tasks only: say which, up front
        lacking = [t.name for t in bench.tasks if task_specs[t.name].unlearning is None]
        if lacking:
            have = [s.name for s in registry.specs("tasks") if s.unlearning is not None]
            raise doc.error(value_loc(doc, ("optimizer", "rule")),
                            f"optimizer: mubench: no MU-Bench unlearning recipe for task(s) {', '.join(lacking)} "
                            f"(tasks with one: {', '.join(have) or 'none'}); use 'authors' or 'paper'")

    if bench.metrics is None:
        metric_names = [s.name for s in registry.specs("metrics") if not s.opt_in]
    else:
        for i, name in enumerate(bench.metrics):
            get("metrics", name, ("metrics", i))
        metric_names = list(dict.fromkeys(bench.metrics))

    if bench.distributed.config is not None:
        from .distributed.config import check_deepspeed_config

        where = value_loc(doc, ("distributed", "config"))
        try:
            check_deepspeed_config(_resolve(base_dir, bench.distributed.config), bench.distributed.zero_stage)
        except ValueError as exc:
            raise doc.error(where, f"distributed.config: {exc}") from None

    executor_args = None
    if "executor" in doc.data:
        block = doc.data["executor"]
        spec = get("executors", bench.executor.use, ("executor", "use") if "use" in block else ("executor",))
        executor_args = args_of(spec, bench.executor.args, ("executor",))

    given = [(t.name, m.name, scale) for t in bench.tasks for m in t.models for scale in m.scales
             if (not m.checkpoint or isinstance(m.checkpoint, ReleaseCheckpoint))  # the authors take these as given too
             and scale in registry.get("models", m.name).given]
    return Validated(bench, doc, registry, task_args, unlearner_args, metric_names, skipped, base_dir, given,
                     executor_args)


def _check_release(doc: Located, loc: Loc, task: str, m: ModelEntry, mspec, base_dir: Path) -> None:
    """Every scale of ``m`` has a release (and, with a mirror, its copy there)."""
    from .release import resolve_release

    mirror = _resolve(base_dir, m.checkpoint.mirror) if m.checkpoint.mirror else None
    for scale in m.scales:
        try:
            resolve_release(task, m.name, scale, mspec.scales.get(scale), mirror)
        except (ValueError, FileNotFoundError) as exc:
            raise doc.error(value_loc(doc, loc + ("from",)), f"checkpoint from mubench-release: {exc}") from None


def _looks_like_path(value: str) -> bool:
    """A hub id is ``owner/name``; anything with a file suffix, ``./``, ``~`` or several slashes is a path."""
    return value.startswith((".", "/", "~")) or value.endswith(".safetensors") or value.count("/") != 1


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def validate(path: str | Path, registry=None) -> Validated:
    """Both phases. Raises :class:`ConfigError` (one located line) on the first problem."""
    from .plugins import load_registry

    bench, doc = parse_structure(path)
    return check_plugins(bench, doc, registry or load_registry())


def digest(obj: Any) -> str:
    """A short stable hash of JSON-able settings (cell keys, cache keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]
