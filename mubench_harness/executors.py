"""Executors: where a sweep's cells run. The built-in ``local`` runs them one after another here.

The contract an executor gets is narrow so that a remote one (``mubench-plugin-ray``) never opens
``results.db``: the driver alone writes it.

- ``groups``: the grid's pending cells, one list per group (task, model, scale, ratio, seed), in run
  order. Within a group the order matters (retrain first: its time is the budget of the others and its
  model RMIA's reference), so an executor runs a group's cells in order; groups may run concurrently.
- ``run_cell(cell) -> CellOutcome``: runs one cell and never raises (a failure is a ``failed`` outcome
  with its traceback).
- ``recorder``: ``started(cell)`` before a cell runs and ``finished(cell, outcome)`` once it has a
  result, both called in the driver's process; ``finished`` commits the record in one transaction.

This module is a built-in plugin (it registers ``local`` through ``mubench_executors``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .hookspecs import hookimpl
from .specs import ExecutorSpec, NoArgs


class Recorder(Protocol):
    def started(self, cell: Any) -> None: ...

    def finished(self, cell: Any, outcome: Any) -> None: ...


def group_cells(cells: list) -> list[list]:
    """``cells`` (in run order) as one list per group, groups in order of their first cell."""
    groups: dict[tuple, list] = {}
    for cell in cells:
        groups.setdefault(cell.group, []).append(cell)
    return list(groups.values())


class LocalExecutor:
    """Every cell in this process, one after another, in the grid's order."""

    def __init__(self, args: NoArgs | None = None):
        self.args = args

    def run(self, groups: list[list], run_cell: Callable[[Any], Any], recorder: Recorder) -> None:
        for group in groups:
            for cell in group:
                recorder.started(cell)
                recorder.finished(cell, run_cell(cell))


@hookimpl
def mubench_executors():
    yield ExecutorSpec(name="local", factory="mubench_harness.executors:LocalExecutor",
                       summary="every cell in this process, one after another (the default)")
