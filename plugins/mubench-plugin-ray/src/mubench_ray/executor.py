"""The ``ray`` executor: each cell is a Ray task; Ray places it (CPUs, GPUs, memory) and reruns it when
its worker process dies. The driver decides *when* a cell may start, so the grid's order holds:

- a group's cells (task, model, scale, ratio, seed) run one after another, retrain first: its time is
  the others' budget and its model RMIA's reference (its done row is sent with each later cell);
- groups that share an original (task, model, scale, seed) wait for the first such group's first cell,
  which trains the original into the run's content-addressed cache: it is never trained twice at once
  (the core's ``GroupOrder``, which the ``local`` executor's workers keep too).

Results come back to the driver, whose recorder alone writes results.db (the workers never open it).
"""
from __future__ import annotations

import sys
from typing import Any

import ray

from mubench_harness.executors import GroupOrder
from mubench_harness.grid import CellOutcome


def _run_cell(run_cell, cell, references):
    return run_cell(cell, references)


class RayExecutor:
    def __init__(self, args):
        self.args = args

    def resources(self, cell) -> dict[str, Any]:
        """Ray's task options for ``cell``: its model scale's requests, else the ``*_per_cell`` values."""
        a = self.args
        per_scale = a.scales.get(cell.scale)
        cpus = per_scale.cpus if per_scale and per_scale.cpus is not None else a.cpus_per_cell
        gpus = per_scale.gpus if per_scale and per_scale.gpus is not None else a.gpus_per_cell
        memory = per_scale.memory_gb if per_scale and per_scale.memory_gb is not None else a.memory_gb_per_cell
        options = {"num_cpus": cpus, "num_gpus": gpus, "max_retries": a.max_retries}
        if memory is not None:
            options["memory"] = int(memory * 2**30)
        return options

    def run(self, groups: list[list], run_cell, recorder) -> None:
        started_here = not ray.is_initialized()
        if started_here:
            context = ray.init(address=self.args.address, num_cpus=self.args.num_cpus,
                               include_dashboard=self.args.include_dashboard, log_to_driver=False)
            url = getattr(context, "dashboard_url", None)
            if url:
                print(f"Ray dashboard: http://{url.removeprefix('http://')}", file=sys.stderr)
        task = ray.remote(_run_cell)
        runner_ref = ray.put(run_cell)  # shipped once, not with every cell
        order = GroupOrder(groups)
        in_flight: dict[Any, tuple[int, Any]] = {}

        def submit(i: int) -> None:
            cell = order.next_cell(i)
            if cell is None:
                return
            recorder.started(cell)
            ref = task.options(**self.resources(cell)).remote(runner_ref, cell, run_cell.references(cell))
            in_flight[ref] = (i, cell)

        def submit_startable() -> None:  # Ray queues what the cluster cannot place yet
            while (i := order.take()) is not None:
                submit(i)

        try:
            submit_startable()
            while in_flight:
                [ref], _ = ray.wait(list(in_flight), num_returns=1)
                i, cell = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception:  # noqa: BLE001 - retries spent (worker lost each time): this cell fails
                    outcome = CellOutcome.lost(cell)
                recorder.finished(cell, outcome)
                order.finished(i)
                submit(i)
                submit_startable()
        finally:
            for ref in in_flight:  # an interrupted driver leaves no cell running on the cluster
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()
