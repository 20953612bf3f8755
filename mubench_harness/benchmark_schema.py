"""Phase 1 of reading a benchmark file: the pydantic models of its YAML (``extra="forbid"``, shorthands)
and :func:`parse_structure`, which locates every error at ``FILE:LINE:COL``. Phase 2 (against the
installed plugins) is :mod:`.config`. Imports no torch."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .located import Located, load_located, pydantic_error


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


class MetricEntry(Strict):
    """``- {name: relearning, args: {steps: 20}}`` in ``metrics:``: a metric with arguments, checked in
    phase 2 by the metric's own args model; ``- relearning`` keeps its defaults."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    _short = _shorthand("name")


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
    metrics: list[MetricEntry] | None = None  # None: every installed metric that is not opt-in
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
