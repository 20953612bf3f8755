"""``data_loader: {workers: N}``: batches through a DataLoader with worker processes give bit-identical
batches, weights and metrics to the in-process path on CPU; bad settings are refused before anything runs."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import torch

from mubench_harness.config import ConfigError, validate
from mubench_harness.data import LOADING, BatchLoading, Rows, column_buffer, iter_batches
from mubench_harness.runner import run_benchmark

TASK = "tasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60}, models: [toy_mlp]}]\n"


def rows_with_a_disk_column(tmp_path, monkeypatch) -> Rows:
    from mubench_harness.data import SPILL_DIR

    monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
    token = SPILL_DIR.set(tmp_path)
    try:
        buf = column_buffer((50, 3), np.float32)
        buf.write(0, np.arange(150, dtype=np.float32).reshape(50, 3))
        disk = buf.finish()
    finally:
        SPILL_DIR.reset(token)
    return Rows({"x": disk, "labels": torch.arange(50) % 3}).select(range(5, 50))


def test_worker_batches_equal_in_process_batches(tmp_path, monkeypatch):
    rows = rows_with_a_disk_column(tmp_path, monkeypatch)
    for shuffle in (False, True):
        expected = list(rows.batches(8, shuffle=shuffle, generator=torch.Generator().manual_seed(3)))
        token = LOADING.set(BatchLoading(workers=2))
        torch.manual_seed(5)
        rng_before = torch.get_rng_state()
        try:
            got = list(iter_batches(rows, 8, shuffle=shuffle, generator=torch.Generator().manual_seed(3)))
        finally:
            LOADING.reset(token)
        # the global RNG (dropout's) is untouched, as in process: a model's random stream is the same either way
        assert torch.equal(torch.get_rng_state(), rng_before)
        assert len(got) == len(expected) == 6
        for a, b in zip(got, expected):
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def run(tmp_path, name: str, extra: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nseeds: [0]\ndeletion_ratios: [10]\n{TASK}unlearners: [exact, dropout_ascent]\n{extra}")
    out = tmp_path / name
    assert run_benchmark(validate(path), out).exit_code == 0
    with sqlite3.connect(out / "results.db") as db:
        weights = dict(db.execute("SELECT label, weights FROM cells"))
        values = {(label, name): value for label, name, value in db.execute(
            "SELECT c.label, m.name, m.value FROM metrics m JOIN cells c ON c.key = m.cell")
            if not name.startswith(("time/", "flos/")) and "seconds" not in name and "flos" not in name}
    return weights, values


def test_workers_give_bit_identical_weights_and_metrics(tmp_path, install_plugins, monkeypatch):
    install_plugins("testkit")
    built = []

    class Counted(torch.utils.data.DataLoader):
        def __init__(self, *args, **kw):
            built.append(kw["num_workers"])
            super().__init__(*args, **kw)

    monkeypatch.setattr(torch.utils.data, "DataLoader", Counted)
    weights, values = run(tmp_path, "inprocess", "")
    assert built == []  # the default stays in process
    weights_dl, values_dl = run(tmp_path, "loader", "data_loader: {workers: 2, pin_memory: false}\n")
    assert built and set(built) == {2}  # training and signal passes went through the workers
    assert weights == weights_dl and set(weights) == {"exact", "dropout_ascent", "original"}
    assert values == values_dl and len(values) > 10


@pytest.mark.parametrize("bad", ["{workers: -1}", "{workers: 2, pin: true}", "{prefetch: 0}"])
def test_bad_data_loader_settings_are_refused_with_their_place(tmp_path, install_plugins, bad):
    install_plugins("testkit")
    path = tmp_path / "b.yaml"
    path.write_text(f"name: b\n{TASK}unlearners: [ascent]\ndata_loader: {bad}\n")
    with pytest.raises(ConfigError) as info:
        validate(path)
    assert str(info.value).startswith(f"{path}:4:") and "data_loader" in str(info.value)
