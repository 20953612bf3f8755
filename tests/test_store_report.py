"""The results database's transactions and the report's aggregation over seeds (hand-computed)."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from mubench_harness.report import aggregate, load_results, render, select_metrics
from mubench_harness.store import CellRecord, Store, open_store


def rec(label, seed, ratio=5, kind="unlearned", status="done", **metrics):
    return CellRecord(key=f"t/m/tiny/{label}/r{ratio}/s{seed}/x", kind=kind, task="t", model="m", scale="tiny",
                      unlearner=label, label=label, ratio=ratio, seed=seed, status=status, seconds=1.0 + seed,
                      metrics=metrics, notes={"steps": 3})


def filled(tmp_path) -> Store:
    store = open_store(tmp_path)
    records = [rec("original", 0, kind="original", **{"test/score": 0.9}), rec("original", 1, kind="original", **{"test/score": 0.8}),
               rec("ascent", 0, **{"test/score": 0.5, "mia": None}), rec("ascent", 1, **{"test/score": 0.7, "mia": 0.2}),
               rec("ascent", 2, **{"test/score": 0.6, "mia": float("nan")}), rec("ascent", 3, status="failed")]
    run = store.start_run({"name": "x"}, [r.key for r in records])
    for r in records:
        store.mark_running(r, run)
        store.finish_cell(r, run)
    return store


def test_schema_and_values(tmp_path):
    store = filled(tmp_path)
    row = store.cell("t/m/tiny/ascent/r5/s1/x")
    assert row["status"] == "done" and row["seconds"] == 2.0 and json.loads(row["notes"]) == {"steps": 3}
    vals = dict(store.db.execute("SELECT name, value FROM metrics WHERE cell = 't/m/tiny/ascent/r5/s2/x'").fetchall())
    assert vals == {"test/score": 0.6, "mia": None}  # NaN is stored as NULL (n/a)
    with pytest.raises(sqlite3.IntegrityError):  # one row per cell, by construction
        store.db.execute("INSERT INTO cells (key, kind, task, model, scale, unlearner, label, ratio, seed, status)"
                         " VALUES ('t/m/tiny/ascent/r5/s1/x', 'unlearned', 't', 'm', 'tiny', 'a', 'a', 5, 1, 'done')")


def test_a_cell_is_written_all_or_nothing(tmp_path):
    store = filled(tmp_path)
    bad = rec("ascent", 9, **{"test/score": 0.1})
    bad.metrics["bad"] = "not a number"  # fails inside the transaction, after the cell row was written
    with pytest.raises(ValueError):
        store.finish_cell(bad, 1)
    assert store.cell(bad.key) is None
    assert store.db.execute("SELECT COUNT(*) FROM metrics WHERE cell = ?", (bad.key,)).fetchone()[0] == 0


def test_rewriting_a_cell_replaces_its_metrics(tmp_path):
    store = filled(tmp_path)
    r = rec("ascent", 0, **{"other": 1.0})
    store.mark_running(r, 1)
    assert store.cell(r.key)["status"] == "running"
    assert store.db.execute("SELECT COUNT(*) FROM metrics WHERE cell = ?", (r.key,)).fetchone()[0] == 0
    store.finish_cell(r, 1)
    assert dict(store.db.execute("SELECT name, value FROM metrics WHERE cell = ?", (r.key,)).fetchall()) == {"other": 1.0}


def test_aggregate_mean_std_over_seeds(tmp_path):
    filled(tmp_path).close()
    rows, names = aggregate(load_results(tmp_path))
    assert names == ["mia", "test/score"]
    assert [(r["label"], r["seeds"], r["failed"]) for r in rows] == [("original", 2, 0), ("ascent", 3, 1)]
    asc = rows[1]["metrics"]
    assert asc["test/score"].mean == pytest.approx(0.6) and asc["test/score"].std == pytest.approx(np.std([0.5, 0.7, 0.6], ddof=1))
    assert asc["mia"].n == 1 and asc["mia"].mean == 0.2  # n/a seeds are left out, not counted as 0
    text = render(load_results(tmp_path), "github")
    assert "0.6 ± 0.1" in text and "ascent (1 failed)" in text and "0.85 ± 0.071" in text


def test_report_formats_and_errors(tmp_path):
    filled(tmp_path).close()
    data = load_results(tmp_path)
    csv_lines = render(data, "csv").splitlines()
    assert csv_lines[0].startswith("task,model,scale,method,ratio %,seeds,mia mean,mia std,test/score mean")
    assert len(csv_lines) == 3
    js = json.loads(render(data, "json"))
    assert js[1]["metrics"]["test/score"]["ci_low"] <= 0.6 <= js[1]["metrics"]["test/score"]["ci_high"]
    # three seeds 0.5, 0.7, 0.6: Student-t, 0.6 ± t(2, 0.975)·0.1/√3 = 0.6 ± 4.30265·0.057735
    ci = js[1]["metrics"]["test/score"]
    assert ci["interval"] == "student-t" and ci["ci_high"] - 0.6 == pytest.approx(4.30265 * 0.1 / np.sqrt(3), abs=1e-4)
    assert "\\begin{tabular}" in render(data, "latex")
    with pytest.raises(ValueError, match="unknown report format"):
        render(data, "html")
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="no results database"):
        load_results(tmp_path / "x")
    (tmp_path / "x" / "results.db").write_bytes(b"garbage" * 100)
    with pytest.raises(ValueError, match="not a mubench results database"):
        load_results(tmp_path / "x")


def test_report_selects_metrics_by_pattern_in_the_given_order(tmp_path):
    filled(tmp_path).close()
    data = load_results(tmp_path)
    assert select_metrics(data, ["test/*", "mia", "test/score"]) == ["test/score", "mia"]
    header = render(data, "csv", select_metrics(data, ["mia"])).splitlines()[0]
    assert header == "task,model,scale,method,ratio %,seeds,mia mean,mia std"
    with pytest.raises(ValueError, match=r"'forget/\*' matches no value .*they have: mia, test/score"):
        select_metrics(data, ["forget/*"])


def test_reporting_never_writes(tmp_path):
    filled(tmp_path).close()
    before = (tmp_path / "results.db").read_bytes()
    render(load_results(tmp_path), "json")
    assert (tmp_path / "results.db").read_bytes() == before
