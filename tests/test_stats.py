"""Seed statistics: Student-t and bootstrap intervals, paired tests, and ``compare(db, A, B)`` on a
results database."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from mubench_harness.report.compare import compare
from mubench_harness.stats import paired_test, summarize

# -- summarize -----------------------------------------------------------------------------------------

def test_bootstrap_interval_width_matches_normal_theory():
    x = np.random.default_rng(0).normal(10.0, 2.0, 200)
    s = summarize(x, resamples=4000)
    assert s.interval == "bootstrap"  # many values: the bootstrap
    expected = 2 * 1.96 * x.std(ddof=0) / np.sqrt(len(x))  # the percentile bootstrap of a mean ≈ ±1.96 SE
    assert s.ci_high - s.ci_low == pytest.approx(expected, rel=0.1)
    assert s.ci_low < s.mean < s.ci_high and s.mean == pytest.approx(x.mean())
    assert s.std == pytest.approx(x.std(ddof=1))


def test_student_t_interval_of_few_seeds_by_hand():
    s = summarize([1.0, 1.0, 1.0, 1.0, 1.0])
    assert (s.ci_low, s.ci_high, s.std, s.interval) == (1.0, 1.0, 0.0, "student-t")
    # [0, 1]: mean ½, s = √½, t(1, 0.975) = 12.7062: ½ ± 12.7062·√½/√2 = ½ ± 6.3531
    s = summarize([0.0, 1.0])
    assert (s.ci_low, s.ci_high) == pytest.approx((0.5 - 6.35310, 0.5 + 6.35310), abs=1e-4) and s.std == pytest.approx(np.sqrt(0.5))
    # five seeds 1..5: mean 3, s = √2.5, t(4, 0.975) = 2.77645: 3 ± 2.77645·√2.5/√5 = 3 ± 1.96324
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s.ci_low, s.ci_high) == pytest.approx((3 - 1.96324, 3 + 1.96324), abs=1e-4) and s.interval == "student-t"
    assert summarize([None, float("nan")]) is None
    assert summarize([3.0, None]).n == 1 and summarize([3.0, None]).interval == "none"


def test_intervals_over_five_seeds_cover_at_the_nominal_rate():
    """2000 simulated benchmarks of 5 normal seeds: the Student-t interval covers the true mean about
    95 % of the time; the percentile bootstrap it replaces covers only about 85 %."""
    rng = np.random.default_rng(1)
    samples = rng.normal(0.7, 0.05, (2000, 5))
    t_cover = np.mean([(s.ci_low <= 0.7 <= s.ci_high) for s in map(summarize, samples)])
    assert 0.93 <= t_cover <= 0.97, t_cover
    boot = [summarize(x, resamples=500, bootstrap_min_n=2) for x in samples[:400]]
    boot_cover = np.mean([(s.ci_low <= 0.7 <= s.ci_high) for s in boot])
    assert boot[0].interval == "bootstrap" and boot_cover < 0.9, boot_cover


# -- paired tests --------------------------------------------------------------------------------------

def test_paired_test_by_hand():
    a, b = [2.0, 4, 6, 8, 10], [1.0, 2, 3, 4, 5]  # d = 1..5: mean 3, sd √2.5, t = 3 / (√2.5 / √5) = 3√2
    r = paired_test(a, b)
    assert r.n == 5 and r.mean_diff == 3.0 and (r.mean_a, r.mean_b) == (6.0, 3.0)
    assert r.t_stat == pytest.approx(3 * np.sqrt(2))
    # Wilcoxon over 5 pairs: even all signs positive gives p = 2 / 2⁵ = 0.0625: it can never reach 0.05
    assert r.wilcoxon_p is None and r.wilcoxon_stat is None
    assert "5 non-zero pairs can never reach p < 0.05" in r.wilcoxon_na and "0.0625" in r.wilcoxon_na and "≥ 6" in r.wilcoxon_na
    assert paired_test(b, a).t_stat == pytest.approx(-3 * np.sqrt(2))
    # 6 pairs, every difference positive → W = 0; exact two-sided p = 2 / 2⁶
    r = paired_test([2.0, 4, 6, 8, 10, 12], [1.0, 2, 3, 4, 5, 6])
    assert r.wilcoxon_stat == 0.0 and r.wilcoxon_p == pytest.approx(2 / 64) and r.wilcoxon_na is None
    # zero differences do not count as pairs for the signed-rank test
    r = paired_test([2.0, 4, 6, 8, 10, 12, 1], [1.0, 2, 3, 4, 5, 5, 1])
    assert r.n == 7 and r.wilcoxon_p == pytest.approx(2 / 64)
    r = paired_test([2.0, 4, 6, 8, 10, 6], [1.0, 2, 3, 4, 5, 6])
    assert r.wilcoxon_p is None and "5 non-zero pairs" in r.wilcoxon_na


def test_paired_test_degenerate_cases():
    r = paired_test([2.0, 3.0, 4.0, 5, 6, 7], [1.0, 2.0, 3.0, 4, 5, 6])  # constant difference: t undefined
    assert r.t_stat is None and r.wilcoxon_p is not None
    r = paired_test([1.0, 2.0], [1.0, 2.0])
    assert r.t_stat is None and r.wilcoxon_stat is None and r.mean_diff == 0.0 and "every difference is 0" in r.wilcoxon_na
    r = paired_test([1.0, None, 3.0, float("nan")], [0.0, 5.0, 1.0, 1.0])  # incomplete pairs dropped
    assert r.n == 2 and r.mean_diff == 1.5
    assert paired_test([None], [1.0]) is None


# -- compare on a results database -------------------------------------------------------------------

# the results schema of mubench_harness/store.py (cells and metrics tables)
SCHEMA = """
CREATE TABLE cells (key TEXT PRIMARY KEY, kind TEXT NOT NULL, task TEXT NOT NULL, model TEXT NOT NULL,
    scale TEXT NOT NULL, unlearner TEXT NOT NULL, label TEXT NOT NULL, ratio INTEGER NOT NULL,
    seed INTEGER NOT NULL, status TEXT NOT NULL, run_id INTEGER, started TEXT, finished TEXT, seconds REAL,
    flos REAL, cut INTEGER, budget_seconds REAL, optimizer TEXT, notes TEXT, error TEXT, weights TEXT);
CREATE TABLE metrics (cell TEXT NOT NULL REFERENCES cells(key) ON DELETE CASCADE, name TEXT NOT NULL,
    value REAL, PRIMARY KEY (cell, name));
"""
DIRECTIONS = {"test/score": "higher", "time/seconds": "lower", "loss_attack/auc": "closer-to-retrain",
              "performance": "info"}


def _db(path, cells, grid=None):
    """A results database of ``cells``; with ``grid`` (cell keys) also a run whose benchmark defines them."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    if grid is not None:
        db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT, finished TEXT, config TEXT,"
                   " grid TEXT, versions TEXT, git TEXT, host TEXT)")
        db.execute("INSERT INTO runs (grid) VALUES (?)", (json.dumps(["stale"]),))  # an older run's grid
        db.execute("INSERT INTO runs (grid) VALUES (?)", (json.dumps(grid),))
    for c in cells:
        key = _key(c)
        db.execute("INSERT INTO cells (key, kind, task, model, scale, unlearner, label, ratio, seed, status)"
                   " VALUES (?, ?, ?, 'toy_mlp', 'tiny', ?, ?, ?, ?, ?)",
                   (key, c.get("kind", "unlearned"), c["task"], c["label"], c["label"], c["ratio"], c["seed"],
                    c.get("status", "done")))
        for name, value in c["metrics"].items():
            db.execute("INSERT INTO metrics VALUES (?, ?, ?)", (key, name, value))
    db.commit()
    db.close()
    return path


def _key(c):
    return f"{c['task']}|{c['label']}|{c['ratio']}|{c['seed']}" + (f"|{c['config']}" if "config" in c else "")


@pytest.fixture
def results(tmp_path):
    cells = []
    for task, shift in (("t1", 0.0), ("t2", 0.5)):
        for seed in range(5):
            base = 0.5 + 0.01 * seed + shift / 10
            cells.append(dict(task=task, label="scrub", ratio=5, seed=seed,
                              metrics={"test/score": base + 0.1, "time/seconds": 2.0 + seed, "loss_attack/auc": 0.52}))
            cells.append(dict(task=task, label="neggrad", ratio=5, seed=seed,
                              metrics={"test/score": base, "time/seconds": 1.0 + seed, "loss_attack/auc": 0.70}))
            cells.append(dict(task=task, label="retrain", kind="retrain", ratio=5, seed=seed,
                              metrics={"test/score": base, "time/seconds": 9.0, "loss_attack/auc": 0.50 + 0.001 * seed}))
    # a failed cell and a cell of A without a partner never enter the pairs
    cells.append(dict(task="t1", label="scrub", ratio=5, seed=7, status="failed", metrics={"test/score": 0.0}))
    cells.append(dict(task="t1", label="scrub", ratio=6, seed=0, metrics={"test/score": 0.0}))
    return _db(tmp_path / "results.db", cells)


def _row(rows, metric, **group):
    (row,) = [r for r in rows if r["metric"] == metric and all(r[k] == v for k, v in group.items())]
    return row


def test_compare_pools_pairs_over_cells_and_seeds(results):
    rows = compare(results, "scrub", "neggrad", directions=DIRECTIONS)
    score = _row(rows, "test/score")
    assert score["n"] == 10 and score["mean diff"] == pytest.approx(0.1)
    assert score["better"] == "scrub" and score["compared"] == "value"
    assert score["t p"] is None  # every difference is exactly 0.1: no variance
    assert score["wilcoxon p"] == pytest.approx(2 / 2**10)  # exact two-sided p with all 10 signs positive
    time = _row(rows, "time/seconds")
    assert time["mean diff"] == pytest.approx(1.0) and time["better"] == "neggrad"  # lower is better


def test_compare_measures_distance_to_retrain(results):
    attack = _row(compare(results, "scrub", "neggrad", directions=DIRECTIONS), "loss_attack/auc")
    assert attack["compared"] == "distance to retrain"
    # |0.52 − (0.5 + 0.001 s)| vs |0.70 − (0.5 + 0.001 s)|, s = 0..4
    assert attack["mean scrub"] == pytest.approx(0.018) and attack["mean neggrad"] == pytest.approx(0.198)
    assert attack["better"] == "scrub"


def test_compare_groups_by_task(results):
    rows = compare(results, "scrub", "neggrad", by=("task",), metrics=["test/score"], directions=DIRECTIONS)
    assert [r["task"] for r in rows] == ["t1", "t2"] and all(r["n"] == 5 for r in rows)
    assert {r["metric"] for r in rows} == {"test/score"}


def test_compare_errors_name_the_problem(results):
    with pytest.raises(ValueError, match="did you mean 'scrub'"):
        compare(results, "scrubb", "neggrad", directions=DIRECTIONS)
    with pytest.raises(ValueError, match="two different methods"):
        compare(results, "scrub", "scrub", directions=DIRECTIONS)
    with pytest.raises(ValueError, match="cannot group by"):
        compare(results, "scrub", "neggrad", by=("seed",), directions=DIRECTIONS)
    with pytest.raises(FileNotFoundError, match="no results database"):
        compare(results.parent / "missing.db", "scrub", "neggrad")


def test_compare_reads_directions_from_the_registry(results):
    rows = compare(results, "scrub", "neggrad")
    assert _row(rows, "loss_attack/auc")["direction"] == "closer-to-retrain"
    assert _row(rows, "time/seconds")["better"] == "neggrad"


def test_compare_skips_na_values(tmp_path):
    cells = [dict(task="t", label=label, ratio=1, seed=s, metrics={"rmia/auc": None, "test/score": 0.5 + s / 10})
             for label in ("a", "b") for s in range(3)]
    rows = compare(_db(tmp_path / "r.db", cells), "a", "b", directions=DIRECTIONS)
    assert [r["metric"] for r in rows] == ["test/score"] and rows[0]["better"] == "tie"


def test_compare_table_prints_every_metric(results):
    from mubench_harness.report.compare import compare_table

    rows = compare(results, "scrub", "neggrad", directions=DIRECTIONS)
    text = compare_table(rows, "scrub", "neggrad")
    for needle in ("test/score", "loss_attack/auc", "distance to retrain", "mean scrub", "n/a"):
        assert needle in text
    assert "no metric" in compare_table([], "scrub", "neggrad")


def test_compare_accepts_the_run_folder(results):
    rows = compare(results.parent, "scrub", "neggrad", metrics=["time"], directions=DIRECTIONS)
    assert [r["metric"] for r in rows] == ["time/seconds"]


def test_compare_pairs_only_the_latest_grid(tmp_path):
    """An earlier configuration's cells (other settings hash, same task/ratio/seed) stay in the database;
    they are never paired with the latest run's, nor used as its retrain reference."""
    old = [dict(task="t", label=label, kind=kind, ratio=5, seed=s, config="old",
                metrics={"test/score": 0.0, "loss_attack/auc": 0.9})
           for s in range(6) for label, kind in (("scrub", "unlearned"), ("neggrad", "unlearned"), ("retrain", "retrain"))]
    new = [dict(task="t", label=label, kind=kind, ratio=5, seed=s,
                metrics={"test/score": score + 0.01 * s, "loss_attack/auc": auc})
           for s in range(6) for label, kind, score, auc in (("scrub", "unlearned", 0.8, 0.55), ("neggrad", "unlearned", 0.6, 0.7),
                                                            ("retrain", "retrain", 0.7, 0.5))]
    path = _db(tmp_path / "results.db", old + new, grid=[_key(c) for c in new])
    rows = compare(path, "scrub", "neggrad", directions=DIRECTIONS)
    score = _row(rows, "test/score")
    assert score["n"] == 6 and score["mean diff"] == pytest.approx(0.2) and score["mean scrub"] == pytest.approx(0.825)
    attack = _row(rows, "loss_attack/auc")  # distances to this grid's retrain (0.5), not to the old one (0.9)
    assert attack["mean scrub"] == pytest.approx(0.05) and attack["mean neggrad"] == pytest.approx(0.2)
    assert score["wilcoxon p"] == pytest.approx(2 / 64)
    # a method that only the older configuration ran is not in the latest grid
    kept = [c for c in new if c["label"] != "neggrad"]
    only_old = _db(tmp_path / "o.db", old + kept, grid=[_key(c) for c in kept])
    with pytest.raises(ValueError, match="no finished cells of method 'neggrad' in the latest run's grid"):
        compare(only_old, "scrub", "neggrad", directions=DIRECTIONS)


def test_compare_says_when_wilcoxon_cannot_be_significant(results):
    from mubench_harness.report.compare import compare_table

    rows = compare(results, "scrub", "neggrad", by=("task",), metrics=["test/score"], directions=DIRECTIONS)
    assert all(r["n"] == 5 and "can never reach p < 0.05" in r["wilcoxon p"] for r in rows)
    assert "smallest possible p = 0.0625" in compare_table(rows, "scrub", "neggrad")


def test_compare_on_a_damaged_database_is_one_error(tmp_path):
    path = tmp_path / "results.db"
    path.write_bytes(b"not sqlite" * 100)
    with pytest.raises(ValueError, match="not a readable mubench results database"):
        compare(path, "scrub", "neggrad", directions=DIRECTIONS)
