"""The MLflow logger against a local file store: each cell one run with its params, metrics and tags;
a tracker that is down costs one warning and never raises into the sweep."""
from __future__ import annotations

import time

import pytest

from mubench_harness.runner import Cell, CellOutcome


@pytest.fixture
def tracker(monkeypatch):
    import mubench_mlflow.tracker as tracker

    monkeypatch.setattr(tracker, "_disabled", [])
    for name in ("MUBENCH_MLFLOW", "MUBENCH_MLFLOW_EXPERIMENT", "MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE",
                 "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.setenv(name, "")  # recorded, so what the logger sets is undone after the test
        monkeypatch.delenv(name)
    return tracker


def outcome(status="done"):
    cell = Cell("unlearned", "toy_blobs", "toy_mlp", "tiny", "neggrad", "neggrad", 5, 1, "abc123")
    record = cell.record(status, seconds=2.5, flos=1e9, optimizer={"rule": "authors", "used": {"lr": 0.01}},
                         notes={"epochs": 3, "batch_sizes": [32]},
                         metrics={"test/score": 0.75, "forget/score": 0.5, "loss_attack/tpr@1%fpr": 0.1,
                                  "ood/score": None})
    return cell, CellOutcome(record)


def test_a_cell_becomes_a_run_in_a_file_store(tmp_path, monkeypatch, tracker):
    import mubench_mlflow
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MUBENCH_MLFLOW_URI", uri)
    cell, out = outcome()
    mubench_mlflow.mubench_cell_finished(cell=cell, outcome=out)  # through the hook implementation
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("mubench").experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["task"] == "toy_blobs" and run.data.params["ratio"] == "5" and run.data.params["seed"] == "1"
    assert run.data.params["method"] == "neggrad" and run.data.params["notes.epochs"] == "3"
    assert '"rule": "authors"' in run.data.params["optimizer_rule"]
    assert run.data.metrics == {"test/score": 0.75, "forget/score": 0.5, "loss_attack/tpr_at_1pctfpr": 0.1,
                                "cell/seconds": 2.5, "cell/flos": 1e9}  # n/a (None) not logged
    assert run.data.tags["mubench.status"] == "done" and run.data.tags["mubench.cell"] == cell.key
    assert run.info.status == "FINISHED"


def test_a_tracker_that_is_down_never_fails_or_blocks_the_sweep(monkeypatch, capsys, tracker):
    monkeypatch.setenv("MUBENCH_MLFLOW_URI", "http://127.0.0.1:9")  # nothing listens on the discard port
    cell, out = outcome()
    start = time.monotonic()
    tracker.log_cell(cell, out)
    tracker.log_cell(cell, out)  # the second cell does not try again
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert err.count("warning: MLflow logging off for the rest of this sweep") == 1


def test_opt_in_only_and_the_off_switch(tmp_path, monkeypatch, tracker):
    monkeypatch.chdir(tmp_path)
    tracker.log_cell(*outcome())  # nothing named: an installed plugin alone logs nothing
    assert not (tmp_path / "mlruns").exists()
    monkeypatch.setenv("MUBENCH_MLFLOW", "on")  # the local folder default
    tracker.log_cell(*outcome())
    assert (tmp_path / "mlruns").is_dir()
    monkeypatch.setenv("MUBENCH_MLFLOW_URI", (tmp_path / "other").as_uri())
    monkeypatch.setenv("MUBENCH_MLFLOW", "off")
    tracker.log_cell(*outcome())
    assert not (tmp_path / "other").exists()
