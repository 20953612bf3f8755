"""The ``ray`` executor on a local Ray cluster (``ray.init(num_cpus=2)``, started once for the module):
benchmarks/toy.yaml gives the same cells and metrics as a local run, and a worker killed mid-cell still
ends with every cell done exactly once. Also: per-scale resource requests and their validation."""
from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mubench_harness.config import validate
from mubench_harness.located import ConfigError
from mubench_harness.runner import expand_grid, make_executor, run_benchmark

TOY = Path(__file__).resolve().parents[3] / "benchmarks" / "toy.yaml"
KILLER = Path(__file__).parent / "killer"


def toy_copy(tmp_path: Path, extra: str = "", seeds: str | None = None) -> Path:
    text = TOY.read_text()
    if seeds is not None:
        text = text.replace("seeds: [0, 1]", f"seeds: {seeds}")
    path = tmp_path / "toy.yaml"
    path.write_text(text + extra)
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster whose workers also load the test-only killer plugin (found through its entry
    point, as an installed plugin is); ``$MUBENCH_TEST_KILL_DIR/arm`` names the cell whose worker dies."""
    ray = pytest.importorskip("ray")
    site = tmp_path_factory.mktemp("site")
    info = site / "mubench_test_killer-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mubench-test-killer\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[mubench]\ntest_killer = mubench_test_killer\n")
    kill_dir = tmp_path_factory.mktemp("kill")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "MUBENCH_TEST_KILL_DIR")}
    # the workers inherit this environment from the cluster the test process starts
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), str(KILLER), saved["PYTHONPATH"]) if p)
    os.environ["MUBENCH_TEST_KILL_DIR"] = str(kill_dir)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield kill_dir
    finally:
        ray.shutdown()
        for k, value in saved.items():
            os.environ.pop(k, None) if value is None else os.environ.__setitem__(k, value)


def cells(out: Path) -> list[dict]:
    with sqlite3.connect(out / "results.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT key, status, error FROM cells")]


def report_json(out: Path) -> dict[tuple, dict]:
    """``mubench report --format json``'s rows by (task, model, scale, method, ratio), timing left out."""
    proc = subprocess.run([sys.executable, "-m", "mubench_harness.cli", "report", str(out), "--format", "json"],
                          capture_output=True, text=True, check=True)
    return {tuple(r[k] for k in ("task", "model", "scale", "label", "ratio")):
            {**r, "metrics": {name: v for name, v in r["metrics"].items() if not name.startswith("time/")}}
            for r in json.loads(proc.stdout)}


def flatten(value, prefix=()) -> dict[tuple, object]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, (*prefix, key)).items()}
    return {prefix: float(value) if isinstance(value, int) and not isinstance(value, bool) else value}


def test_scale_requests_override_the_per_cell_defaults(tmp_path):
    v = validate(toy_copy(tmp_path, "executor: {use: ray, cpus_per_cell: 2, memory_gb_per_cell: 1, "
                                    "scales: {tiny: {gpus: 4}}}\n"))
    executor = make_executor(v)
    cell = expand_grid(v)[0]
    assert executor.resources(cell) == {"num_cpus": 2, "num_gpus": 4, "max_retries": 3, "memory": 2**30}
    other = type(cell)(**{**cell.__dict__, "scale": "base"})
    assert executor.resources(other)["num_gpus"] == 0


def test_bad_resource_request_is_located(tmp_path):
    with pytest.raises(ConfigError) as err:
        validate(toy_copy(tmp_path, "executor: {use: ray, scales: {tiny: {gpus: -1}}}\n"))
    assert "toy.yaml:22:" in str(err.value) and "ray: argument scales.tiny.gpus" in str(err.value)


def test_top_module_imports_no_ray():
    code = "import sys, mubench_ray; print('ray' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_toy_through_ray_equals_the_local_run(tmp_path, cluster):
    path = toy_copy(tmp_path)
    local = run_benchmark(validate(path), tmp_path / "local", progress=False)
    remote = run_benchmark(validate(path), tmp_path / "ray", progress=False, executor_name="ray")
    assert local.exit_code == remote.exit_code == 0 and remote.ran == 12
    assert sorted(c["key"] for c in cells(tmp_path / "ray")) == sorted(c["key"] for c in cells(tmp_path / "local"))
    a, b = report_json(tmp_path / "local"), report_json(tmp_path / "ray")
    assert a.keys() == b.keys() and len(a) == 6
    for row in a:
        flat_a, flat_b = flatten(a[row]), flatten(b[row])
        assert flat_a.keys() == flat_b.keys() and len(flat_a) > 30, row
        for name, value in flat_a.items():
            other = flat_b[name]
            close = isinstance(value, float) and isinstance(other, float) and math.isclose(value, other, rel_tol=1e-6, abs_tol=1e-9)
            assert close or value == other, (row, name, value, other)


def test_a_worker_killed_mid_cell_reruns_that_cell_only(tmp_path, cluster):
    path = toy_copy(tmp_path, seeds="[0]")
    victim = next(c for c in expand_grid(validate(path)) if c.kind == "unlearned" and c.ratio == 10)
    (cluster / "arm").write_text(victim.key)
    summary = run_benchmark(validate(path), tmp_path / "out", progress=False, executor_name="ray")
    assert (cluster / "fired").read_text() == victim.key, "the victim's worker was killed"
    rows = cells(tmp_path / "out")
    assert sorted(r["key"] for r in rows) == sorted(summary.keys) and len(rows) == 6
    assert {r["status"] for r in rows} == {"done"} and summary.exit_code == 0


def test_a_worker_lost_with_no_retries_left_fails_that_cell_only(tmp_path, cluster):
    path = toy_copy(tmp_path, "executor: {use: ray, max_retries: 0}\n", seeds="[0]")
    victim = next(c for c in expand_grid(validate(path)) if c.kind == "unlearned" and c.ratio == 10)
    (cluster / "fired").unlink(missing_ok=True)
    (cluster / "arm").write_text(victim.key)
    summary = run_benchmark(validate(path), tmp_path / "out", progress=False)
    assert summary.failed == [victim.key] and summary.exit_code == 1
    by_key = {r["key"]: r for r in cells(tmp_path / "out")}
    assert "WorkerCrashedError" in by_key[victim.key]["error"] or "died" in by_key[victim.key]["error"]
    assert {r["status"] for k, r in by_key.items() if k != victim.key} == {"done"}
