"""The paper's learning-rate search: chosen on a validation split carved from Dr, never on test or Df,
once per (task, model, scale, method), candidates' scores and the choice recorded with each cell."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
import torch

from mubench_harness import lr_search
from mubench_harness.config import ConfigError, validate
from mubench_harness.lr_search import carve_validation, choose


def test_validation_is_carved_from_dr_by_the_split_seed():
    kept, held = carve_validation(200, 42, 5)
    assert len(held) == 20 and not set(kept) & set(held) and sorted({*kept, *held}) == list(range(200))
    again, held2 = carve_validation(200, 42, 5)
    assert np.array_equal(held, held2) and np.array_equal(kept, again)
    assert not np.array_equal(held, carve_validation(200, 43, 5)[1])


def test_choose_takes_the_best_score_first_on_ties():
    table = {1e-5: 0.5, 1e-4: 0.9, 1e-3: 0.9, 1e-2: 0.1}
    best, scores = choose(list(table), unlearn=lambda lr: lr, score=lambda model: table[model])
    assert best == 1e-4 and scores == {repr(k): v for k, v in table.items()}


def _bench(tmp_path, rule="paper"):
    f = tmp_path / "lr.yaml"
    f.write_text(f"""name: lr
seeds: [0, 1]
deletion_ratios: [10]
tasks:
  - name: toy_blobs
    args: {{n_train: 200, n_test: 200}}
    models: [toy_mlp]
unlearners:
  - name: neggrad
    args: {{epochs: 2}}
metrics: [performance]
optimizer: {{rule: {rule}, lr_search: [1.0e-5, 0.5]}}
""")
    return f


def test_lr_search_needs_the_paper_rule(tmp_path):
    with pytest.raises(ConfigError, match="lr_search needs rule: paper"):
        validate(_bench(tmp_path, rule="authors"))


@pytest.mark.needs_shipped_plugins
def test_search_scores_validation_rows_only_and_is_recorded(tmp_path, monkeypatch):
    from mubench_harness.execution import Runtime
    from mubench_harness.runner import expand_grid, run_benchmark

    v = validate(_bench(tmp_path))
    scored = []  # every row set the search judged a candidate on
    real = lr_search.compute_signals

    def spy(task, model, rows, built, **kw):
        scored.append(rows)
        return real(task, model, rows, built, **kw)

    monkeypatch.setattr(lr_search, "compute_signals", spy)
    summary = run_benchmark(v, tmp_path / "run", progress=False)
    assert summary.exit_code == 0, summary.failed
    assert summary.work["lr_search"] == 1  # once for (toy_blobs, toy_mlp, tiny, neggrad), both seeds reuse it
    assert len(scored) == 2  # one validation pass per candidate

    # what was scored is exactly the validation carve of Dr: no Df row, no test row
    rt = Runtime(v, tmp_path / "probe", store=None, progress=False)
    cell = next(c for c in expand_grid(v) if c.kind == "unlearned" and c.seed == 0)
    p, sp = rt.prepared(cell.task, cell.model, cell.scale), rt.split(cell)
    _, held = carve_validation(len(sp.retain), v.bench.split_seed, cell.ratio)
    validation = sp.retain.select(held)
    forget_x = {tuple(x.tolist()) for x in sp.forget["x"]}
    test_x = {tuple(x.tolist()) for x in p.test["x"]}
    for rows in scored:
        assert torch.equal(rows["x"], validation["x"]) and torch.equal(rows["idx"], validation["idx"])
        xs = {tuple(x.tolist()) for x in rows["x"]}
        assert not xs & forget_x and not xs & test_x
        assert not set(rows["idx"].tolist()) & set(sp.forget["idx"].tolist())
    rt.close()

    with sqlite3.connect(tmp_path / "run" / "results.db") as db:
        rows = db.execute("SELECT notes, optimizer FROM cells WHERE kind = 'unlearned'").fetchall()
    assert len(rows) == 2
    for notes, optimizer in rows:
        search = json.loads(notes)["lr_search"]
        assert set(search["scores"]) == {repr(1e-5), repr(0.5)} and search["validation_size"] == 18
        best = max(search["scores"], key=search["scores"].get)
        assert search["chosen"] == float(best) == 1e-5  # ascent at lr 0.5 wrecks the retained classes
        assert search["scores"][repr(1e-5)] > search["scores"][repr(0.5)]
        assert json.loads(optimizer)["used"]["lr"] == search["chosen"]
