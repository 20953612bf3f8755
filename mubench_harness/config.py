"""Benchmark files: pydantic models of the YAML and its two-phase validation.

Phase 1 (structure) loads the YAML node by node with PyYAML's safe composer, keeping the line/column
mark of every node, so each error names ``FILE:LINE:COL`` of the offending key or value. Python tags
and any other non-standard tag are rejected before anything is constructed. Phase 2 checks the file
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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Loc = tuple[Any, ...]


class ConfigError(Exception):
    """A located problem with a benchmark file; ``str()`` is the one-line ``FILE:LINE:COL: message``."""

    def __init__(self, file: str, line: int, col: int, message: str):
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message


# --------------------------------------------------------------------------------------------------
# The benchmark file's schema
# --------------------------------------------------------------------------------------------------
class Strict(BaseModel):
    # strict: "3" is not silently an int and 1 is not silently a string
    model_config = ConfigDict(extra="forbid", strict=True)


def _shorthand(key: str):
    """Accept ``- neggrad`` for ``- {name: neggrad}`` (and ``optimizer: paper`` for ``{rule: paper}``)."""

    def convert(cls, value):
        return {key: value} if isinstance(value, str) else value

    return model_validator(mode="before")(classmethod(convert))


class ModelEntry(Strict):
    name: str
    scales: list[str] = Field(default_factory=lambda: ["tiny"], min_length=1)
    #: an already-trained original: a local safetensors file (or a folder holding ``model.safetensors``)
    #: or a hub repository id. Without it the harness trains the original with the task's recipe.
    checkpoint: str | None = None
    _short = _shorthand("name")

    @field_validator("scales")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("scales are listed twice")
        return v


class TaskEntry(Strict):
    name: str
    source: Literal["mini", "hub"] = "mini"
    args: dict[str, Any] = Field(default_factory=dict)
    #: a local dataset folder or mirror used by the ``hub`` source instead of the hub
    path: str | None = None
    models: list[ModelEntry] = Field(min_length=1)


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
    """``authors``: each method's own recipe. ``paper``: MU-Bench's rule (Adam, batch 32, one lr)."""

    rule: Literal["authors", "paper"] = "authors"
    paper_lr: float = Field(1e-4, gt=0)
    paper_batch_size: int = Field(32, ge=1)
    _short = _shorthand("rule")


class BudgetBlock(Strict):
    #: a method may use at most this fraction of retraining's wall clock (the paper: 1.0)
    max_fraction_of_retrain: float = Field(1.0, gt=0)


class DistributedBlock(Strict):
    """The runner builds an ``accelerate.Accelerator`` from it (``accelerate``: device placement and mixed
    precision in this process). ``deepspeed`` is refused until the runner runs a cell across ranks: in
    one unlaunched process accelerate silently falls back to plain PyTorch, and ZeRO-3's partitioned
    parameters would need gathering wherever a method reads whole weights (SalUn's mask, l1's norm)."""

    backend: Literal["none", "accelerate", "deepspeed"] = "none"
    zero_stage: int = Field(0, ge=0, le=3)

    @model_validator(mode="after")
    def _consistent(self):
        if self.backend != "deepspeed" and self.zero_stage:
            raise ValueError("zero_stage needs backend: deepspeed")
        if self.backend == "deepspeed":
            raise ValueError("backend deepspeed is not supported yet (ZeRO scale-out needs a multi-rank runner; "
                             "in one process it would silently run plain PyTorch): use none or accelerate")
        return self


class Benchmark(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    output_dir: str | None = None  # default: runs/<name>, relative to the working directory
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], min_length=1)
    split_seed: int = 42
    #: whole percents of the training set, 1..10 (the paper's unified deletion ratios)
    deletion_ratios: list[Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=lambda: list(range(1, 11)), min_length=1)
    tasks: list[TaskEntry] = Field(min_length=1)
    unlearners: list[UnlearnerEntry] = Field(min_length=1)
    metrics: list[str] | None = None  # None: every installed metric
    optimizer: OptimizerBlock = Field(default_factory=OptimizerBlock)
    budget: BudgetBlock = Field(default_factory=BudgetBlock)
    device: Literal["cpu", "auto", "cuda"] = "cpu"
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    distributed: DistributedBlock = Field(default_factory=DistributedBlock)

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
# Phase 1: YAML with locations
# --------------------------------------------------------------------------------------------------
_STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}


@dataclass
class Located:
    """A loaded document with the ``(line, col)`` (1-based) of every key path."""

    file: str
    data: Any
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc) -> tuple[int, int]:
        """The mark of ``loc`` or of its nearest present ancestor (a missing key: its mapping)."""
        loc = tuple(loc)
        while loc not in self.marks and loc:
            loc = loc[:-1]
        return self.marks.get(loc, (1, 1))

    def error(self, loc: Loc, message: str) -> ConfigError:
        line, col = self.where(loc)
        return ConfigError(self.file, line, col, message)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_located(path: str | Path) -> Located:
    """Read a YAML file safely, keeping every node's location. Raises :class:`ConfigError`."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(file, 1, 1, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(file, line, col, "not a UTF-8 text file (binary data?)") from None
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # its reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(file, 1, 1, "the file is empty; expected a mapping of benchmark settings")
        doc = Located(file, None)
        _check_tags(node, (), doc)
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(file, line, col, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        mark = getattr(exc, "position", None)
        line = text[:mark].count("\n") + 1 if isinstance(mark, int) else 1
        raise ConfigError(file, line, 1, f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(doc.data, dict):
        raise ConfigError(file, *_mark(node), f"expected a mapping of benchmark settings, got {type(doc.data).__name__}")
    return doc


def _check_tags(node, loc: Loc, doc: Located, value_of_key: bool = False) -> None:
    """Reject non-standard tags; record the mark of every key (at its path) and every value (at its
    path + ``"<value>"``) so errors about a key and errors about its value point at different places."""
    doc.marks[loc + ("<value>",) if value_of_key else loc] = _mark(node)
    if node.tag not in _STANDARD_TAGS:
        kind = "python tags are not allowed" if "python" in node.tag else "unsupported tag"
        raise ConfigError(doc.file, *_mark(node), f"{kind}: {node.tag}")
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise ConfigError(doc.file, *_mark(key), "mapping keys must be plain scalars")
            _check_tags(key, loc + (key.value,), doc)
            _check_tags(value, loc + (key.value,), doc, value_of_key=True)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_tags(item, loc + (i,), doc)


def _value_loc(doc: Located, loc: Loc) -> Loc:
    """Errors about a *value* point at the value (or, for a part the file does not spell out, such as
    ``rule`` of ``optimizer: fancy``, at the nearest value that is there); about a key, at the key."""
    for n in range(len(loc), -1, -1):
        if loc[:n] + ("<value>",) in doc.marks:
            return loc[:n] + ("<value>",)
        if loc[:n] in doc.marks:
            return loc[:n]
    return ()


def _pydantic_error(doc: Located, exc: ValidationError, prefix: Loc = ()) -> ConfigError:
    errors = exc.errors()
    # an unknown key explains a "missing" one next to it (a typo): report it first
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    where = ".".join(str(p) for p in loc) or "top level"
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else "")
        return doc.error(loc, message)
    if kind == "missing":
        return doc.error(loc[:-1], f"missing required key {loc[-1]!r}" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else ""))
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = f" (got {got!r})" if not isinstance(got, (dict, list)) and kind not in ("value_error",) else ""
    return doc.error(_value_loc(doc, loc), f"{where}: {msg}{shown}")


def parse_structure(path: str | Path) -> tuple[Benchmark, Located]:
    """Phase 1: YAML → :class:`Benchmark`, every error located."""
    doc = load_located(path)
    try:
        bench = Benchmark.model_validate(doc.data)
    except ValidationError as exc:
        raise _pydantic_error(doc, exc) from None
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
            raise doc.error(_value_loc(doc, loc), str(exc)) from None

    base_dir = Path(doc.file).resolve().parent

    def args_of(spec, raw: dict, loc: Loc):
        try:  # the context lets LocalPath args resolve relative paths from the benchmark file's folder
            return spec.args.model_validate(raw, context={"base_dir": base_dir})
        except ValidationError as exc:
            err = exc.errors()[0]
            inner = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                raise doc.error(loc + inner, f"{spec.name}: unknown argument {inner[-1]!r}") from None
            msg = err["msg"].removeprefix("Value error, ")
            arg = ".".join(map(str, inner)) or "args"
            raise doc.error(_value_loc(doc, loc + inner), f"{spec.name}: argument {arg}: {msg}") from None

    task_args: dict[str, Any] = {}
    task_specs = {}
    for i, t in enumerate(bench.tasks):
        loc = ("tasks", i)
        if t.name in task_specs:
            raise doc.error(loc + ("name", "<value>"), f"task {t.name!r} is listed twice")
        spec = get("tasks", t.name, loc + ("name",))
        task_specs[t.name] = spec
        if t.source not in spec.sources:
            raise doc.error(_value_loc(doc, loc + ("source",)) if "source" in doc.data["tasks"][i] else loc,
                            f"task {t.name!r} has no {t.source!r} source (it has: {', '.join(spec.sources)})")
        task_args[t.name] = args_of(spec, t.args, loc + ("args",))
        if t.path is not None and "path" not in spec.args.model_fields:
            raise doc.error(_value_loc(doc, loc + ("path",)), f"task {t.name!r} takes no local dataset path")
        if t.path is not None and not _resolve(base_dir, t.path).exists():
            raise doc.error(_value_loc(doc, loc + ("path",)), f"dataset path {t.path!r} does not exist")
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
                    raise doc.error(_value_loc(doc, mloc + ("scales", k)),
                                    f"model {m.name!r} has no scale {scale!r} (scales: {', '.join(mspec.scales)})")
            if m.checkpoint and _looks_like_path(m.checkpoint) and not _resolve(base_dir, m.checkpoint).exists():
                raise doc.error(_value_loc(doc, mloc + ("checkpoint",)), f"checkpoint file {m.checkpoint!r} does not exist")

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

    if bench.metrics is None:
        metric_names = [s.name for s in registry.specs("metrics")]
    else:
        for i, name in enumerate(bench.metrics):
            get("metrics", name, ("metrics", i))
        metric_names = list(dict.fromkeys(bench.metrics))

    given = [(t.name, m.name, scale) for t in bench.tasks for m in t.models for scale in m.scales
             if not m.checkpoint and scale in registry.get("models", m.name).given]
    return Validated(bench, doc, registry, task_args, unlearner_args, metric_names, skipped, base_dir, given)


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
