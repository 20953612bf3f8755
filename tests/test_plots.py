"""Plots of a results database: what each figure draws (means, seed intervals, the Pareto front), files written."""
from __future__ import annotations

import subprocess

import pytest

from mubench_harness.report import aggregate, load_results
from mubench_harness.report.plots import (forgetting_utility_points, pareto_front, plot_forgetting_vs_utility,
                                          plot_metrics_vs_ratio, write_plots)
from mubench_harness.store import CellRecord, open_store

from conftest import mubench_cmd


def rec(label, seed, ratio, kind="unlearned", **metrics):
    return CellRecord(key=f"t/m/tiny/{label}/r{ratio}/s{seed}", kind=kind, task="t", model="m", scale="tiny",
                      unlearner=label, label=label, ratio=ratio, seed=seed, status="done", seconds=1.0, flos=1e9,
                      metrics={"flos/total": 1e9, "flos/vs_retrain": 0.5, "time/seconds_vs_retrain": 0.25, **metrics})


def store_with(tmp_path, records):
    store = open_store(tmp_path)
    run = store.start_run({"name": "x"}, [r.key for r in records])
    for r in records:
        store.mark_running(r, run)
        store.finish_cell(r, run)
    return load_results(tmp_path)


def test_pareto_front_by_hand():
    pts = [("a", 0.9, 0.1), ("b", 0.5, 0.5), ("c", 0.4, 0.4), ("d", 0.1, 0.9), ("e", 0.5, 0.5)]
    # c is beaten by b in both; b and e are equal, so neither beats the other
    assert pareto_front(pts) == ["a", "b", "d", "e"]


def test_metric_lines_are_means_over_seeds_with_their_interval(tmp_path):
    data = store_with(tmp_path, [rec("ga", s, r, **{"test/score": v, "forget/score": 1 - v})
                                 for r, vals in ((5, (0.6, 0.8)), (10, (0.4, 0.6))) for s, v in enumerate(vals)])
    rows, _ = aggregate(data)
    fig = plot_metrics_vs_ratio(rows, "t")
    ax = fig.axes[0]
    assert ax.get_title() == "test score"
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [5, 10] and list(line.get_ydata()) == pytest.approx([0.7, 0.5])
    band = ax.collections[0].get_paths()[0].vertices  # Student-t over 2 seeds: 0.7 ± 12.706·0.1414/√2
    assert band[:, 1].max() == pytest.approx(0.7 + 12.7062 * 0.141421 / 2 ** 0.5, rel=1e-4)
    # forgetting = 1 − Df score averaged over ratios; utility = test score
    assert forgetting_utility_points(rows) == [("ga", pytest.approx(0.6), pytest.approx(0.6))]


def test_a_single_seed_and_ratio_still_plots_points_without_a_band(tmp_path):
    data = store_with(tmp_path, [rec("ga", 0, 5, **{"test/score": 0.5, "forget/score": 0.2}),
                                 rec("rl", 0, 5, **{"test/score": 0.7, "forget/score": 0.6})])
    rows, _ = aggregate(data)
    ax = plot_metrics_vs_ratio(rows, "t").axes[0]
    assert [list(l.get_ydata()) for l in ax.get_lines()] == [[0.5], [0.7]]
    assert not ax.collections  # no interval from one seed
    ax = plot_forgetting_vs_utility(rows, "t").axes[0]
    assert len(ax.collections) == 2  # both methods on the front (neither beats the other in both)
    written = write_plots(data, tmp_path / "plots")
    names = sorted(p.name for p in written[("t", "m", "tiny")])
    assert len(names) == 8 and "t__m__tiny__metrics_vs_ratio.png" in names and "t__m__tiny__cost.svg" in names
    assert all(p.stat().st_size > 1000 for p in written[("t", "m", "tiny")])


def test_report_plots_flag_writes_the_files(tmp_path, cli_env):
    store_with(tmp_path, [rec("ga", 0, 5, **{"test/score": 0.5, "forget/score": 0.2})])
    out = subprocess.run([*mubench_cmd(), "report", str(tmp_path), "--plots", str(tmp_path / "figs")],
                         capture_output=True, text=True, env=cli_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "figs" / "t__m__tiny__forgetting_vs_utility.png").is_file()
    assert "8 plot files" in out.stderr
