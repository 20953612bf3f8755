"""One cell across ranks (DESIGN.md §7): two CPU processes over gloo under torchrun — data parallel
(Accelerate) and DeepSpeed ZeRO-2/3 — against a single-process run of the same cells; FSDP (GPUs only
through Accelerate) is refused on CPU and compared on GPUs.

Tolerance: weights within atol 1e-5 + rtol 1e-4 of the single-process run (the ranks average two
half-batch gradients where one process takes one batch: the same numbers summed in another order, float32),
metrics (scores on test, Df, Dr) within 1e-6, FLOs of all ranks together equal (SalUn's saliency pass runs
whole on every rank). LoRA runs without dropout here: each rank draws dropout masks for its own rows, so with
dropout two ranks match one process in distribution only. Every launch costs start-up seconds on 2 cores, so
one small grid (toy blobs × toy MLP, 4 methods) serves every backend; DeepSpeed's communication op compiled on
first use (~35 s) is cached in ~/.cache/torch_extensions.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

DRIVER = Path(__file__).with_name("distributed_cell.py")
METHODS = ["neggrad", "scrub", "salun", "lora"]

GRID = """name: dist
seeds: [0]
deletion_ratios: [10]
tasks:
  - name: toy_blobs
    args: {{n_train: 200, n_test: 80}}
    models: [toy_mlp]
unlearners:
  - {{name: neggrad, args: {{batch_size: 6, epochs: 2, lr: 0.01}}}}
  - {{name: scrub, args: {{batch_size: 16, forget_batch_size: 6, epochs: 2, lr: 0.01}}}}
  - {{name: salun, args: {{batch_size: 16, epochs: 1, lr: 0.01}}}}
  - {{name: neggrad, label: lora, args: {{batch_size: 6, epochs: 2, lr: 0.01, lora: {{rank: 2, dropout: 0.0}}}}}}
metrics: [performance]
budget: {{max_fraction_of_retrain: 1000.0}}
device: cpu
{distributed}
"""


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(DRIVER.parent.parent)}


def _run(tmp: Path, distributed: str, ranks: int, extra_files: dict[str, str] | None = None, device: str = "cpu") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for name, text in (extra_files or {}).items():
        (tmp / name).write_text(text)
    bench = tmp / "bench.yaml"
    bench.write_text(GRID.format(distributed=distributed).replace("device: cpu", f"device: {device}"))
    out = tmp / "out"
    launch = [sys.executable] if ranks == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                  f"--nproc_per_node={ranks}"]
    proc = subprocess.run([*launch, str(DRIVER), str(bench), str(out)], env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-4000:]  # 1: a cell failed (checked by the caller)
    return out


def _weights(out: Path, label: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(out / "weights" / f"{label}.safetensors"))


def _cells(out: Path) -> dict[str, dict]:
    with sqlite3.connect(out / "results.db") as db:
        db.row_factory = sqlite3.Row
        cells = {r["label"]: dict(r) for r in db.execute("SELECT * FROM cells")}
        for row in db.execute("SELECT c.label, m.name, m.value FROM metrics m JOIN cells c ON c.key = m.cell"):
            cells[row["label"]].setdefault("metrics", {})[row["name"]] = row["value"]
    return cells


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The reference: the same grid in one plain process."""
    return _run(tmp_path_factory.mktemp("single"), "", 1)


def _assert_same(single: Path, multi: Path, labels: list[str]) -> None:
    one, two = _cells(single), _cells(multi)
    for label in labels:
        assert two[label]["status"] == "done", two[label]["error"]
        a, b = _weights(single, label), _weights(multi, label)
        assert a.keys() == b.keys()
        for k in a:
            torch.testing.assert_close(b[k], a[k], atol=1e-5, rtol=1e-4, msg=lambda m, k=k: f"{label} {k}: {m}")
        ma, mb = one[label]["metrics"], two[label]["metrics"]
        for name, value in ma.items():
            if isinstance(value, float) and not name.startswith("time/"):
                assert mb[name] == pytest.approx(value, abs=1e-6), (label, name)
        if label != "salun":  # SalUn's saliency pass runs whole on every rank: its FLOs are counted per rank
            assert two[label]["flos"] == pytest.approx(one[label]["flos"], rel=1e-6), "FLOs of both ranks together"
    before = _weights(single, "neggrad")
    orig_moved = any(not torch.equal(before[k], _weights(single, "scrub")[k]) for k in before)
    assert orig_moved  # the methods did move the weights: equality above is not of untouched models


def test_distributed_two_ranks_match_one_process(single, tmp_path):
    """Data parallel over gloo: sharded batches and averaged gradients give one process's weights and
    metrics for every method (SalUn's mask re-imposed on each rank's replica, LoRA merged after); rank 0
    alone wrote the database (one run row) while rank 1 trained in step."""
    multi = _run(tmp_path, "distributed: {backend: accelerate}", 2)
    _assert_same(single, multi, METHODS)
    with sqlite3.connect(multi / "results.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    held = json.loads((multi / "held-rank1.json").read_text())
    assert set(held) >= set(METHODS)  # rank 1 ran every method's loop
    assert not (multi / "weights" / "held-rank1").exists()


SHARDED = ["neggrad", "scrub", "lora"]


def _assert_salun_refused(out: Path) -> None:
    cell = _cells(out)["salun"]
    assert cell["status"] == "failed" and "does not run under DeepSpeed ZeRO or FSDP yet" in cell["error"]


ZERO_MISMATCH = ("known gap: under DeepSpeed ZeRO-2/3 on two CPU ranks the weights match one process to 1e-7 for the "
                 "first ~70 optimiser steps of a toy Adam run (10 epochs of 7 steps), then drift (0.02 after 105 "
                 "steps, 0.2 after the toy original's 280); ZeRO-2 and ZeRO-3 alike, data parallel matches: not yet "
                 "explained")


@pytest.fixture(scope="module")
def zero3(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("zero3"), "distributed: {backend: deepspeed, zero_stage: 3}", 2)


def test_deepspeed_zero3_each_rank_holds_half(zero3):
    """ZeRO-3 (DeepSpeed no longer refused): every cell but SalUn's (refused with one line) finishes, and while
    a method trains each rank holds about half of the parameter entries (its partition)."""
    cells = _cells(zero3)
    assert all(cells[label]["status"] == "done" for label in ["original", *SHARDED]), cells
    _assert_salun_refused(zero3)
    for r in (0, 1):
        held = json.loads((zero3 / f"held-rank{r}.json").read_text())
        for label in SHARDED:
            local, total = held[label]
            assert abs(local - total / 2) <= 0.01 * total, (r, label, local, total)


@pytest.mark.xfail(reason=ZERO_MISMATCH, strict=True)
def test_deepspeed_zero3_matches_one_process(single, zero3):
    _assert_same(single, zero3, SHARDED)


@pytest.mark.slow
@pytest.mark.xfail(reason=ZERO_MISMATCH, strict=True)
def test_deepspeed_zero2_matches_one_process(single, tmp_path):
    """ZeRO-2 from the user's DeepSpeed JSON (its "auto" micro batch filled in, nothing else changed)."""
    ds = '{"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto"}'
    multi = _run(tmp_path, "distributed: {backend: deepspeed, config: ds.json}", 2, {"ds.json": ds})
    _assert_salun_refused(multi)
    _assert_same(single, multi, SHARDED)


def test_fsdp_without_gpu_is_refused_before_anything_starts(tmp_path):
    """Accelerate shards with FSDP on GPUs only (on CPU ranks it would silently run data parallel): without
    CUDA, backend fsdp is one line naming the file, exit 2, and no output folder."""
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: FSDP runs")
    bench = tmp_path / "b.yaml"
    bench.write_text(GRID.format(distributed="distributed: {backend: fsdp}"))
    proc = subprocess.run([sys.executable, "-m", "mubench_harness", "run", str(bench), "--output-dir", str(tmp_path / "out")],
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{bench}: ") and "fsdp" in last and "GPU" in last
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="Accelerate's FSDP needs GPUs")
def test_fsdp_matches_one_process(single, tmp_path):
    """FSDP2 (Accelerate's plugin, full sharding) on two GPUs: one process's weights and metrics."""
    multi = _run(tmp_path, "distributed: {backend: fsdp}", 2, device="cuda")
    _assert_same(single, multi, SHARDED)
    _assert_salun_refused(multi)


# -- fast checks, no launch ---------------------------------------------------------------------------------
def test_distributed_shards_weigh_to_the_global_mean():
    """Rank r takes rows r, r+2, ... of a global batch; share·world-weighted rank losses average to the
    global batch's mean loss, an uneven batch (5 rows: 3 + 2) included; a batch smaller than the ranks is
    taken whole by each (share 1/2)."""
    from mubench_harness.training import _shard

    batch = {"idx": torch.arange(5), "x": torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0])}
    parts = [_shard(batch, r, 2) for r in (0, 1)]
    assert parts[0][0]["x"].tolist() == [1.0, 4.0, 16.0] and parts[1][0]["x"].tolist() == [2.0, 8.0]
    assert [p[1] for p in parts] == [0.6, 0.4]
    averaged = sum(p[0]["x"].mean() * p[1] * 2 for p in parts) / 2  # what averaging the ranks' gradients sees
    assert averaged.item() == pytest.approx(31.0 / 5)
    one = {"idx": torch.arange(1), "x": torch.tensor([3.0])}
    assert _shard(one, 1, 2) == (one, 0.5)


@pytest.mark.parametrize("files, block, message", [
    ({}, "{backend: deepspeed, config: ds.json}", "ds.json' does not exist"),
    ({"ds.json": "{not json"}, "{backend: deepspeed, config: ds.json}", "is not a JSON file"),
    ({"ds.json": '{"zero_optimization": {"stage": 2}}'}, "{backend: deepspeed, zero_stage: 3, config: ds.json}",
     "sets ZeRO stage 2 but zero_stage is 3"),
])
def test_deepspeed_config_is_checked_at_validation(tmp_path, files, block, message):
    """A DeepSpeed JSON that is missing, not JSON or contradicts zero_stage: one located line, exit 2."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    bench = tmp_path / "b.yaml"
    bench.write_text(GRID.format(distributed=f"distributed: {block}"))
    proc = subprocess.run([sys.executable, "-m", "mubench_harness", "validate", str(bench)], env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    line = GRID.format(distributed="").count("\n")  # the last line of the file
    assert proc.stderr.startswith(f"{bench}:{line}:") and message in proc.stderr and proc.stderr.count("\n") == 1


def test_distributed_launcher_command():
    """--launcher re-runs the same command on every rank, minus the launch options, under this interpreter."""
    from mubench_harness.distributed.launch import launcher_command, strip_launch_options

    argv = ["run", "b.yaml", "--launcher", "torchrun", "--nproc=4", "--no-progress"]
    assert strip_launch_options(argv) == ["run", "b.yaml", "--no-progress"]
    cmd = launcher_command("torchrun", 4, strip_launch_options(argv))
    assert cmd == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4",
                   "-m", "mubench_harness", "run", "b.yaml", "--no-progress"]
    assert launcher_command("accelerate", 2, ["run", "b.yaml"])[1:4] == ["-m", "accelerate.commands.launch",
                                                                          "--num_processes=2"]
