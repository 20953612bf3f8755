"""Metric arguments in the benchmark file: ``metrics:`` entries ``{name: relearning, args: {steps: 3}}``
beside plain names, checked against the metric's own args model (a bad argument is one located line
and exit 2), recorded in the run's resolved arguments, and the values the metric runs with."""
from __future__ import annotations

import json
import sqlite3

import pytest

from mubench_harness.cli import main
from mubench_harness.config import validate

pytestmark = pytest.mark.needs_shipped_plugins  # the benchmarks run the shipped neggrad

BASE = """name: margs
seeds: [0]
deletion_ratios: [10]
tasks: [{name: toy_blobs, source: mini, args: {n_train: 120, n_test: 60}, models: [{name: toy_mlp, scales: [tiny]}]}]
unlearners: [neggrad]
"""


def bench(tmp_path, metrics: str):
    path = tmp_path / "b.yaml"
    path.write_text(BASE + f"output_dir: {tmp_path / 'run'}\nmetrics: {metrics}\n")
    return path


def test_entries_with_arguments_beside_plain_names(tmp_path):
    v = validate(bench(tmp_path, "[performance, {name: relearning, args: {steps: 3, data: retain}}, quantization]"))
    assert v.metric_names == ["performance", "relearning", "quantization"]
    relearn = v.metric_args["relearning"]
    assert (relearn.steps, relearn.data, relearn.lr) == (3, "retain", 1e-4)  # lr: the args model's default
    # a plain name runs with its defaults; the same entry twice is one metric
    v = validate(bench(tmp_path, "[relearning, relearning]"))
    assert v.metric_names == ["relearning"] and v.metric_args["relearning"].steps == 10


@pytest.mark.parametrize("metrics, col, message", [
    ("[performance, {name: relearning, args: {stepz: 3}}]", 50, "relearning: unknown argument 'stepz'"),
    ("[performance, {name: relearning, args: {steps: 0}}]", 57, "relearning: argument steps: Input should be greater than or equal to 1"),
    ("[performance, {name: relearning, args: {data: test}}]", 56, "relearning: argument data: String should match pattern"),
    ("[{name: performance, args: {x: 1}}]", 38, "performance: unknown argument 'x'"),
    ("[{name: relearnin}]", 18, "unknown metric 'relearnin'; did you mean 'relearning'?"),
    ("[relearning, {name: relearning, args: {steps: 3}}]", 23, "metric 'relearning' is listed twice with different arguments"),
    ("[{args: {steps: 3}}]", 11, "missing required key 'name' in metrics.0"),
])
def test_bad_metric_arguments_are_one_located_line(tmp_path, capsys, metrics, col, message):
    path = bench(tmp_path, metrics)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}:7:{col}: {message}") and "\n" not in err


@pytest.mark.needs_shipped_plugins
def test_the_metric_runs_with_them_and_the_run_records_them(tmp_path, capsys):
    assert main(["run", str(bench(tmp_path, "[performance, {name: relearning, args: {steps: 3, lr: 0.01}}]")),
                 "--no-progress"]) == 0
    capsys.readouterr()
    db = sqlite3.connect(tmp_path / "run" / "results.db")
    config = json.loads(db.execute("SELECT config FROM runs").fetchone()[0])
    assert config["metrics"][1] == {"name": "relearning", "args": {"steps": 3, "lr": 0.01}}
    assert config["resolved_args"]["metrics"]["relearning"] == {"steps": 3, "lr": 0.01, "batch_size": 16, "data": "forget"}
    assert config["resolved_args"]["metrics"]["performance"] == {}
    # the attack's own account of what it ran, in every cell's notes (the original's too)
    notes = [json.loads(n) for (n,) in db.execute("SELECT notes FROM cells")]
    assert len(notes) == 2
    assert all(n["definitions"]["robust/relearn_return"].startswith("3 Adam steps (lr 0.01, batch 16)") for n in notes)
