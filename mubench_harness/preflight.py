"""What `mubench run` reads before it creates anything: every pending task's local downloads and data,
each task's deletion-set file, every local checkpoint's safetensors header. Bad input here is one located line
(exit status 2) and no output folder."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .config import Validated
from .contracts import Task
from .located import value_loc
from .release import checkpoint_of
from .resources import check_checkpoint, local_checkpoint
from .specs import downloads_of

#: what a task's ``load`` raises on data it cannot read (a missing file, a wrong column or type): bad input
DATA_ERRORS = (ValueError, TypeError, KeyError, IndexError, OSError)


def load_tasks(v: Validated, names) -> dict[str, tuple[Task, Any]]:
    """The task objects and loaded ``DatasetDict``s of ``names``, read before any cell starts, so data
    that cannot be read stops ``mubench run`` with one located line (exit 2) and nothing created."""
    check_downloads(v, names)
    loaded = {}
    for name in names:
        i, entry = next((i, t) for i, t in enumerate(v.bench.tasks) if t.name == name)
        spec = v.registry.get("tasks", name)
        args = v.task_args[name]
        if entry.path is not None:
            args = args.model_copy(update={"path": str(v.resolve(entry.path))})
        task = spec.load()(args)
        try:
            loaded[name] = (task, task.load(entry.source))
        except DATA_ERRORS as exc:
            where = ("tasks", i, "source") if "source" in v.doc.data["tasks"][i] else ("tasks", i, "name")
            detail = " ".join(str(exc).split()) or "(no message)"
            raise v.doc.error(where, f"task {name!r}: its {entry.source!r} data cannot be loaded: "
                                     f"{type(exc).__name__}: {detail}") from exc
        check_deletion_file(v, i, task, loaded[name][1]["train"])
    return loaded


def missing_downloads(v: Validated, names=None) -> list[tuple[int, str, str, str, str]]:
    """``(task index, task, arg, path as the file writes it, where it comes from)`` of every local download
    the tasks ``names`` (all: None) name that is not on disk."""
    out = []
    for i, t in enumerate(v.bench.tasks):
        if names is None or t.name in names:
            entry = v.doc.data["tasks"][i]
            written = (entry.get("args") if isinstance(entry, dict) else None) or {}
            out += [(i, t.name, field, str(written.get(field, path)), marker.origin)
                    for field, path, marker in downloads_of(v.task_args[t.name]) if not Path(path).exists()]
    return out


def check_downloads(v: Validated, names=None) -> None:
    """A local download that is not there: one line located at its argument (``mubench run`` before any
    data is read, ``mubench validate --data``)."""
    missing = missing_downloads(v, names)
    if missing:
        i, task, field, path, origin = missing[0]
        raise v.doc.error(value_loc(v.doc, ("tasks", i, "args", field)),
                          f"{task}: argument {field}: local download {path!r} is not there (get it from {origin})")


def check_deletion_file(v: Validated, i: int, task: Task, train) -> None:
    """A task's ``splits: {from: file}`` checked against its training set before any cell starts: an
    index out of range or listed twice is bad input; quirks (sorted, unbalanced) are warnings."""
    from .splits import DeletionFileError, deletion_file

    ds = deletion_file(v.bench.tasks[i].splits, v.base_dir)
    if ds is None:
        return
    col = task.stratify_column
    strata = list(train[col]) if col and col in train.column_names else None
    try:
        warnings = ds.check(len(train), v.bench.deletion_ratios, strata)
    except (DeletionFileError, OSError) as exc:
        raise v.doc.error(value_loc(v.doc, ("tasks", i, "splits", "path")), f"deletion-set file: {exc}") from None
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


def check_checkpoints(v: Validated, names) -> None:
    """Every local checkpoint of the tasks ``names`` is a readable safetensors file, checked before any
    cell starts."""
    for i, t in enumerate(v.bench.tasks):
        for j, m in enumerate(t.models):
            if t.name not in names or not m.checkpoint:
                continue
            scales = v.registry.get("models", m.name).scales
            for scale in m.scales:  # a release names one checkpoint per scale
                named = checkpoint_of(m.checkpoint, t.name, m.name, scale, scales.get(scale), v.base_dir)
                file = None if named is None else local_checkpoint(named, v.base_dir)
                if file is None:  # a hub repository id (fetched by its cell), or the family's own weights
                    continue
                try:
                    check_checkpoint(file)
                except ValueError as exc:
                    raise v.doc.error(value_loc(v.doc, ("tasks", i, "models", j, "checkpoint")),
                                      f"checkpoint {named!r}: {exc}") from None
