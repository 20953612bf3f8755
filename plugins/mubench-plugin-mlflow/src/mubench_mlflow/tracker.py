"""Log one cell as one MLflow run; a tracker that is down costs one warning, never the sweep."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: the sweep gives up on the tracker after its first failure (no retry storm per cell)
_disabled: list[str] = []


def tracking_uri() -> str | None:
    """Where runs go, or ``None`` when the user asked for no tracking. Opt-in: an installed plugin alone
    logs nothing (a development environment has every plugin installed and runs sweeps in tests)."""
    switch = os.environ.get("MUBENCH_MLFLOW", "").lower()
    if switch in ("off", "0", "false"):
        return None
    named = os.environ.get("MUBENCH_MLFLOW_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    if named:
        return named
    return Path("mlruns").resolve().as_uri() if switch in ("on", "1", "true") else None


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def cell_params(cell, record) -> dict[str, str]:
    """The cell's setting: its key fields, the optimiser rule in force and the method's recorded facts."""
    params = {"task": cell.task, "model": cell.model, "scale": cell.scale, "method": cell.label,
              "unlearner": cell.unlearner, "kind": cell.kind, "seed": cell.seed, "ratio": cell.ratio,
              "settings": cell.settings}
    if record.optimizer:
        params["optimizer_rule"] = json.dumps(record.optimizer, sort_keys=True)
    for name, value in (record.notes or {}).items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            params[f"notes.{name}"] = value
        elif name != "n/a":
            params[f"notes.{name}"] = json.dumps(value, sort_keys=True)
    # MLflow caps a param value at 6000 characters
    return {k: str(v)[:6000] for k, v in params.items()}


def cell_metrics(record) -> dict[str, float]:
    """Finite metric values; MLflow names allow '/', and '@'/'%' are replaced (not allowed in names)."""
    out = {}
    for name, value in record.metrics.items():
        if value is not None and value == value and abs(value) != float("inf"):
            out[name.replace("@", "_at_").replace("%", "pct")] = float(value)
    for name in ("seconds", "flos"):
        if getattr(record, name) is not None:
            out[f"cell/{name}"] = float(getattr(record, name))
    return out


def log_cell(cell, outcome) -> None:
    uri = tracking_uri()
    if uri is None or _disabled:
        return
    # a tracking server that is down answers within seconds, not after MLflow's default retries
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    record = outcome.record
    if uri.startswith("file:"):
        # a local folder is this plugin's default (no server, no database to set up); MLflow 3 keeps
        # its file store in maintenance mode behind this switch, and `mlflow ui` still reads it
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        name = os.environ.get("MUBENCH_MLFLOW_EXPERIMENT", "mubench")
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        tags = {"mubench.status": record.status, "mubench.cell": cell.key}
        revision = git_revision()
        if revision:
            tags["mlflow.source.git.commit"] = revision
        run = client.create_run(experiment_id, run_name=cell.key, tags=tags)
        now = int(time.time() * 1000)
        client.log_batch(run.info.run_id,
                         metrics=[Metric(k, v, now, 0) for k, v in cell_metrics(record).items()],
                         params=[Param(k, v) for k, v in cell_params(cell, record).items()])
        client.set_terminated(run.info.run_id, "FINISHED" if record.status == "done" else "FAILED")
    except Exception as exc:  # noqa: BLE001 - the tracker never fails or blocks the sweep
        _disabled.append(str(exc))
        print(f"warning: MLflow logging off for the rest of this sweep ({uri}): "
              f"{type(exc).__name__}: {str(exc)[:200]}", file=sys.stderr)
