"""Executors: where a sweep's cells run. The built-in ``local`` runs them in ``mubench run``'s process,
one after another, or (``workers: N``) N groups at a time in worker processes on this machine.

The contract an executor gets is narrow so that a remote one (``mubench-plugin-ray``) never opens
``results.db``: the driver alone writes it.

- ``groups``: the grid's pending cells, one list per group (task, model, scale, ratio, seed), in run
  order. Within a group the order matters (retrain first: its time is the budget of the others and its
  model RMIA's reference), so an executor runs a group's cells in order; groups may run concurrently,
  in the order :class:`GroupOrder` allows.
- ``run_cell(cell, references=None) -> CellOutcome``: runs one cell and never raises (a failure is a
  ``failed`` outcome with its traceback). It pickles without the driver's state: in another process it
  rebuilds the run from the benchmark file and output folder; ``run_cell.references(cell)`` (driver side)
  is what such a process needs from the database (the group's done retrain rows).
- ``recorder``: ``started(cell)`` before a cell runs and ``finished(cell, outcome)`` once it has a
  result, both called in the driver's process; ``finished`` commits the record in one transaction.

This module is a built-in plugin (it registers ``local`` through ``mubench_executors``).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from .hookspecs import hookimpl
from .specs import ExecutorSpec


class Recorder(Protocol):
    def started(self, cell: Any) -> None: ...

    def finished(self, cell: Any, outcome: Any) -> None: ...


def group_cells(cells: list) -> list[list]:
    """``cells`` (in run order) as one list per group, groups in order of their first cell."""
    groups: dict[tuple, list] = {}
    for cell in cells:
        groups.setdefault(cell.group, []).append(cell)
    return list(groups.values())


class GroupOrder:
    """When a concurrent executor may start each group's next cell.

    A group's cells run one after another. Groups that share an original (task, model, scale, seed) wait
    until the first of them has run its first cell, which trains that original into the run's
    content-addressed cache: an original is never trained twice at once. Otherwise groups start in grid
    order as :meth:`take` is asked."""

    def __init__(self, groups: list[list]):
        self.queues = [list(g) for g in groups]
        self.original_of = [(g[0].task, g[0].model, g[0].scale, g[0].seed) for g in groups]
        self.trainer: dict[tuple, int] = {}  # original -> the group whose first cell trains it
        for i, key in enumerate(self.original_of):
            self.trainer.setdefault(key, i)
        self.trained: set[tuple] = set()  # originals whose training cell has finished (done or failed)
        self.untaken = list(range(len(groups)))

    def take(self) -> int | None:
        """The next group that may start now (marked as started), or None."""
        for i in self.untaken:
            key = self.original_of[i]
            if self.trainer[key] == i or key in self.trained:
                self.untaken.remove(i)
                return i
        return None

    def next_cell(self, i: int):
        """Group ``i``'s next cell (removed from its queue), or None when it has run them all."""
        return self.queues[i].pop(0) if self.queues[i] else None

    def finished(self, i: int) -> None:
        """A cell of group ``i`` has finished: the groups waiting for its original may start."""
        if self.trainer[self.original_of[i]] == i:
            self.trained.add(self.original_of[i])


class LocalArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: groups run at once, each in a worker process of its own (1: every cell in mubench run's process)
    workers: int = Field(1, ge=1)
    #: torch threads of each worker (None: this machine's cores shared out among the workers)
    threads_per_worker: int | None = Field(None, ge=1)


class LocalExecutor:
    """Every cell on this machine, in the grid's order: in this process, or ``workers`` groups at a time
    in worker processes (spawned once, each running a whole group so its original and data stay loaded
    there; the driver alone writes results.db)."""

    def __init__(self, args: LocalArgs | None = None):
        self.args = args or LocalArgs()

    def run(self, groups: list[list], run_cell: Callable[..., Any], recorder: Recorder) -> None:
        if self.args.workers == 1 or len(groups) == 1:
            for group in groups:
                for cell in group:
                    recorder.started(cell)
                    recorder.finished(cell, run_cell(cell))
            return
        from .pool import run_in_workers

        threads = self.args.threads_per_worker or max(1, (os.cpu_count() or 1) // self.args.workers)
        run_in_workers(GroupOrder(groups), run_cell, recorder, min(self.args.workers, len(groups)), threads)


@hookimpl
def mubench_executors():
    yield ExecutorSpec(name="local", factory="mubench_harness.executors:LocalExecutor", args=LocalArgs,
                       summary="every cell on this machine: in this process, or `workers` groups at a time")
