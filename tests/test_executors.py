"""The executor seam: ``executor:`` validated like other components, ``--executor`` overrides it, and
the built-in ``local`` executor runs groups in order with the driver writing every record."""
from __future__ import annotations

import subprocess

import pytest

from conftest import mubench_cmd
from mubench_harness.config import validate
from mubench_harness.executors import LocalExecutor, group_cells
from mubench_harness.located import ConfigError
from mubench_harness.runner import expand_grid, make_executor

BENCH = ("name: e\nseeds: [0, 1]\ndeletion_ratios: [5, 10]\n"
         "tasks: [{name: toy_blobs, args: {n_train: 80, n_test: 40}, models: [toy_mlp]}]\n"
         "unlearners: [ascent, exact]\nmetrics: [performance]\n")


@pytest.fixture
def kit(install_plugins):
    return install_plugins("testkit")


def write(tmp_path, extra=""):
    path = tmp_path / "b.yaml"
    path.write_text(BENCH + extra)
    return path


def test_groups_keep_the_grid_order_and_retrain_first(tmp_path, kit):
    grid = expand_grid(validate(write(tmp_path)))
    groups = group_cells(grid)
    assert len(groups) == 4 and [c for g in groups for c in g] == grid
    for g in groups:
        assert [c.kind for c in g] == ["retrain", "original", "unlearned"] and len({c.group for c in g}) == 1


def test_local_is_the_default_and_records_through_the_recorder(tmp_path, kit):
    v = validate(write(tmp_path))
    assert v.executor_args is None and isinstance(make_executor(v), LocalExecutor)
    events = []

    class Recorder:
        def started(self, cell):
            events.append(("start", cell.key))

        def finished(self, cell, outcome):
            events.append(("end", cell.key, outcome))

    grid = expand_grid(v)
    LocalExecutor().run(group_cells(grid), lambda c: c.kind, Recorder())
    assert events == [e for c in grid for e in (("start", c.key), ("end", c.key, c.kind))]


@pytest.mark.parametrize("extra, where, message", [
    ("executor: {use: locl}\n", (7, 17), "unknown executor 'locl'; did you mean 'local'?"),
    ("executor: {use: local, gpus: 2}\n", (7, 24), "local: unknown argument 'gpus'"),
])
def test_bad_executor_block_is_located(tmp_path, kit, extra, where, message):
    with pytest.raises(ConfigError) as err:
        validate(write(tmp_path, extra))
    assert f"b.yaml:{where[0]}:{where[1]}: {message}" in str(err.value)


def test_unknown_executor_on_the_command_line_is_bad_input(tmp_path, kit, cli_env):
    out = tmp_path / "out"
    proc = subprocess.run([*mubench_cmd(), "run", str(write(tmp_path)), "--output-dir", str(out), "--executor", "rey"],
                          env=cli_env(), capture_output=True, text=True)
    assert proc.returncode == 2 and "--executor rey: unknown executor 'rey'" in proc.stderr
    assert not out.exists()


class _Runner:
    """A picklable ``run_cell`` for worker processes: records the cell done, except that the worker running
    ``dies_on`` exits at once (as a process killed or out of memory does)."""

    def __init__(self, dies_on: str | None = None):
        self.dies_on = dies_on

    def __call__(self, cell, references=None):
        import os
        import time

        from mubench_harness.grid import CellOutcome
        from mubench_harness.store import now

        if cell.key == self.dies_on:
            os._exit(3)
        start = now()
        time.sleep(0.05)
        return CellOutcome(cell.record("done", started=start, finished=now()), work={"unlearn": 1, "pid": os.getpid()})

    def references(self, cell):
        return {}


class _Events:
    def __init__(self):
        self.events = []

    def started(self, cell):
        self.events.append(("start", cell.key))

    def finished(self, cell, outcome):
        self.events.append(("end", cell.key, outcome.status, outcome.record.error or "", outcome.work.get("pid")))


def test_local_workers_keep_group_order_and_share_originals(tmp_path, kit):
    """workers: 2 — two groups at a time, each group's cells in order (retrain first), a group waiting for the
    group that trains its original (same task, model, scale, seed) to finish its first cell, every cell once;
    a group stays in one worker process."""
    v = validate(write(tmp_path, "executor: {use: local, workers: 2, threads_per_worker: 1}\n"))
    executor = make_executor(v)
    assert isinstance(executor, LocalExecutor) and executor.args.workers == 2
    grid = expand_grid(v)
    rec = _Events()
    executor.run(group_cells(grid), _Runner(), rec)
    ends = [e for e in rec.events if e[0] == "end"]
    assert sorted(e[1] for e in ends) == sorted(c.key for c in grid) and {e[2] for e in ends} == {"done"}
    start = {e[1]: n for n, e in enumerate(rec.events) if e[0] == "start"}
    end = {e[1]: n for n, e in enumerate(rec.events) if e[0] == "end"}
    for group in group_cells(grid):  # in order: each cell starts after the one before it ended
        for before, after in zip(group, group[1:]):
            assert end[before.key] < start[after.key]
        assert len({e[4] for e in ends if e[1] in {c.key for c in group}}) == 1, "a group runs in one process"
    # seed 0's two ratios share an original: ratio 10's group starts after ratio 5's first cell ended
    g5, g10 = [g for g in group_cells(grid) if g[0].seed == 0]
    assert end[g5[0].key] < start[g10[0].key]
    assert [e[0] for e in rec.events[:2]] == ["start", "start"], "two groups started at once"
    assert len({e[4] for e in ends}) == 2, "two worker processes shared the groups"


def test_a_local_worker_that_dies_fails_its_cell_only(tmp_path, kit):
    v = validate(write(tmp_path, "executor: {use: local, workers: 2, threads_per_worker: 1}\n"))
    grid = expand_grid(v)
    victim = next(c for c in grid if c.kind == "original" and c.seed == 1)
    rec = _Events()
    make_executor(v).run(group_cells(grid), _Runner(dies_on=victim.key), rec)
    ends = {e[1]: e for e in rec.events if e[0] == "end"}
    assert len(ends) == len(grid) == len([e for e in rec.events if e[0] == "end"])
    assert ends[victim.key][2] == "failed" and "worker process running" in ends[victim.key][3]
    assert {e[2] for k, e in ends.items() if k != victim.key} == {"done"}, "the sweep went on in a fresh process"


@pytest.mark.needs_shipped_plugins
def test_toy_with_two_local_workers_equals_the_sequential_run(tmp_path):
    """benchmarks/toy.yaml (4 groups, 12 cells) with ``workers: 2`` against one process: the same cells, the
    same weights (hashes) and metrics (timing aside), and the workers' computations counted in the summary."""
    import sqlite3
    from pathlib import Path

    from mubench_harness.runner import run_benchmark

    toy = (Path(__file__).resolve().parents[1] / "benchmarks" / "toy.yaml").read_text()
    (tmp_path / "one.yaml").write_text(toy)
    (tmp_path / "two.yaml").write_text(toy + "executor: {use: local, workers: 2, threads_per_worker: 1}\n")

    def results(out):
        with sqlite3.connect(out / "results.db") as db:
            cells = {k: (s, w) for k, s, w in db.execute("SELECT key, status, weights FROM cells")}
            metrics = {(c, n): v for c, n, v in db.execute("SELECT cell, name, value FROM metrics")
                       if not n.startswith("time/")}
        return cells, metrics

    one = run_benchmark(validate(tmp_path / "one.yaml"), tmp_path / "one", progress=False)
    two = run_benchmark(validate(tmp_path / "two.yaml"), tmp_path / "two", progress=False)
    assert one.exit_code == two.exit_code == 0 and two.ran == 12
    (cells_one, metrics_one), (cells_two, metrics_two) = results(tmp_path / "one"), results(tmp_path / "two")
    assert cells_two == cells_one and {s for s, _ in cells_two.values()} == {"done"}
    assert metrics_two.keys() == metrics_one.keys() and len(metrics_one) > 100
    for key, value in metrics_one.items():
        assert metrics_two[key] == pytest.approx(value, rel=1e-9, abs=1e-12) or metrics_two[key] == value, key
    assert two.work["train_original"] == one.work["train_original"] == 2  # one per seed, shared by its ratios
    assert two.work["unlearn"] == one.work["unlearn"]
