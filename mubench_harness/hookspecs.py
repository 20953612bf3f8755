"""The hook specifications of the ``mubench`` pluggy project.

Registration hooks take no arguments and return (or yield) typed specs; every call's results are
flattened by :mod:`mubench_harness.plugins`. Lifecycle hooks let plugins wrap a grid cell (timing,
a distributed context, a profiler) or observe finished cells (loggers). The hot loop uses no hooks.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("mubench")
hookimpl = pluggy.HookimplMarker("mubench")


@hookspec
def mubench_tasks():
    """Return an iterable of :class:`~mubench_harness.specs.TaskSpec` this plugin provides."""


@hookspec
def mubench_models():
    """Return an iterable of :class:`~mubench_harness.specs.ModelSpec` (architecture families)."""


@hookspec
def mubench_unlearners():
    """Return an iterable of :class:`~mubench_harness.specs.UnlearnerSpec` (unlearning methods)."""


@hookspec
def mubench_metrics():
    """Return an iterable of :class:`~mubench_harness.specs.MetricSpec`."""


@hookspec
def mubench_executors():
    """Return an iterable of :class:`~mubench_harness.specs.ExecutorSpec`: where a sweep's cells run
    (the core registers ``local``, one after another in this process; ``mubench-plugin-ray`` a cluster).
    ``executor: {use: NAME, ...}`` in a benchmark file or ``mubench run --executor NAME`` picks one."""


@hookspec(firstresult=True)
def mubench_run_cell(cell, runtime):
    """Run one grid cell and return its :class:`~mubench_harness.runner.CellOutcome`.

    The core provides the implementation; plugins wrap it (``@hookimpl(wrapper=True)``) to time it,
    open a distributed context around it, or replace it entirely by returning first.
    """


@hookspec
def mubench_cell_finished(cell, outcome):
    """Called after a cell's result is committed to the results database (loggers, notifiers)."""
