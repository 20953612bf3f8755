"""Benchmark files: pydantic models of the YAML and its two-phase validation.

Phase 1 (structure, :mod:`.benchmark_schema`) reads the YAML with every node's location (:mod:`.located`),
so each error names ``FILE:LINE:COL`` of the offending key or value, and validates it with pydantic models. Phase 2 checks the file
against the installed plugins: names (with "did you mean"), scales, which families serve which tasks,
which methods apply to which tasks, and each component's own ``args`` model.

Importing this module imports no torch: ``mubench validate`` answers in about a second.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .located import ConfigError, Loc, Located, load_located, value_loc
from .benchmark_schema import Benchmark, ModelEntry, ReleaseCheckpoint, parse_structure

__all__ = ["Benchmark", "ConfigError", "Validated", "digest", "load_located", "parse_structure", "validate"]


class DeviceUnavailable(RuntimeError):
    """The benchmark file asks for a device (CUDA, a launcher's ranks) this machine or process does not
    have: bad input, exit 2. Here, not beside the device code, so the CLI catches it without torch."""



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
    #: metric name -> its args model instance (``metrics:`` entries' ``args``, else the defaults)
    metric_args: dict[str, Any] = field(default_factory=dict)

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

    metric_args: dict[str, Any] = {}
    if bench.metrics is None:
        metric_names = [s.name for s in registry.specs("metrics") if not s.opt_in]
        metric_args = {name: registry.get("metrics", name).args() for name in metric_names}
    else:
        for i, m in enumerate(bench.metrics):
            plain = isinstance(doc.data["metrics"][i], str)
            spec = get("metrics", m.name, ("metrics", i) if plain else ("metrics", i, "name"))
            parsed = args_of(spec, m.args, ("metrics", i, "args"))
            if m.name in metric_args and metric_args[m.name] != parsed:
                # one metric runs once per cell: two argument sets would leave one unmeasured
                raise doc.error(("metrics", i), f"metric {m.name!r} is listed twice with different arguments")
            metric_args[m.name] = parsed
        metric_names = list(metric_args)

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
                     executor_args, metric_args)


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
