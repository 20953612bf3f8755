"""mubench executor ``ray``: registration only (no ray, no torch imported here: listing stays fast).

``executor: {use: ray, address: auto, cpus_per_cell: 2, gpus_per_cell: 1}`` in a benchmark file or
``mubench run FILE --executor ray`` runs the grid's cells as Ray tasks; the driver alone writes results.db.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import ExecutorSpec


class CellResources(BaseModel):
    """What one cell asks Ray for (unset: the executor's ``*_per_cell`` value)."""

    model_config = ConfigDict(extra="forbid")
    cpus: float | None = Field(None, ge=0)
    gpus: float | None = Field(None, ge=0)
    memory_gb: float | None = Field(None, gt=0)


class RayArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: a running cluster (``auto``: the one ``ray start`` made on this node; ``ray://host:10001``);
    #: None starts a local cluster for this run
    address: str | None = None
    #: CPUs of the local cluster started when ``address`` is None (None: every core)
    num_cpus: int | None = Field(None, ge=1)
    cpus_per_cell: float = Field(1, ge=0)
    gpus_per_cell: float = Field(0, ge=0)
    memory_gb_per_cell: float | None = Field(None, gt=0)
    #: requests per model scale, e.g. ``{13b: {gpus: 4, cpus: 16}}`` (a scale not listed: the ``*_per_cell`` values)
    scales: dict[str, CellResources] = Field(default_factory=dict)
    #: how often a cell whose worker process died (node lost, OOM kill) is run again before it is failed
    max_retries: int = Field(3, ge=0)
    #: start Ray's dashboard with a local cluster (needs ``ray[default]``); its address is printed either way
    include_dashboard: bool = False


@hookimpl
def mubench_executors():
    yield ExecutorSpec(name="ray", factory="mubench_ray.executor:RayExecutor", args=RayArgs, requires=("ray",),
                       summary="the grid's cells as Ray tasks on a cluster (groups in parallel, retrain first in each)")
