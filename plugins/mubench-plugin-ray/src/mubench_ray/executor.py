"""The ``ray`` executor: each cell is a Ray task; Ray places it (CPUs, GPUs, memory) and reruns it when
its worker process dies. The driver decides *when* a cell may start, so the grid's order holds:

- a group's cells (task, model, scale, ratio, seed) run one after another, retrain first: its time is
  the others' budget and its model RMIA's reference (its done row is sent with each later cell);
- groups that share an original (task, model, scale, seed) wait for the first such group's first cell,
  which trains the original into the run's content-addressed cache: it is never trained twice at once.

Results come back to the driver, whose recorder alone writes results.db (the workers never open it).
"""
from __future__ import annotations

import sys
import traceback
from typing import Any

import ray

from mubench_harness.runner import CellOutcome
from mubench_harness.store import now


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
        queues = [list(g) for g in groups]
        original_of = [(g[0].task, g[0].model, g[0].scale, g[0].seed) for g in groups]
        trains_original = {}  # original -> the group whose first cell trains it
        for i, key in enumerate(original_of):
            trains_original.setdefault(key, i)
        waiting: dict[tuple, list[int]] = {}  # original -> groups that wait for it
        in_flight: dict[Any, tuple[int, Any]] = {}

        def submit(i: int) -> None:
            cell = queues[i].pop(0)
            recorder.started(cell)
            ref = task.options(**self.resources(cell)).remote(runner_ref, cell, run_cell.references(cell))
            in_flight[ref] = (i, cell)

        for i, key in enumerate(original_of):
            if trains_original[key] == i:
                submit(i)
            else:
                waiting.setdefault(key, []).append(i)
        try:
            while in_flight:
                [ref], _ = ray.wait(list(in_flight), num_returns=1)
                i, cell = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception:  # noqa: BLE001 - retries spent (worker lost each time): this cell fails
                    outcome = CellOutcome(cell.record("failed", started=now(), finished=now(), error=traceback.format_exc()))
                recorder.finished(cell, outcome)
                if trains_original[original_of[i]] == i:  # the original is cached (or failed): let the others go
                    for j in waiting.pop(original_of[i], []):
                        submit(j)
                if queues[i]:
                    submit(i)
        finally:
            for ref in in_flight:  # an interrupted driver leaves no cell running on the cluster
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()
