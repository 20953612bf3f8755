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
