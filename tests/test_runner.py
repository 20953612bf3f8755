"""The runner end to end on the toy task with the test plugin's methods: results, resume, caches,
failure isolation, budget, checkpoints and a ``kill -9`` mid-run."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
import torch

from conftest import mubench_cmd
from mubench_harness.config import validate
from mubench_harness.runner import expand_grid, run_benchmark

TASK = "tasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60}, models: [toy_mlp]}]\n"


def bench(tmp_path, unlearners: str, *, seeds="[0, 1]", ratios="[5, 10]", extra="", name="b.yaml"):
    path = tmp_path / name
    path.write_text(f"name: t\nseeds: {seeds}\ndeletion_ratios: {ratios}\n{TASK}unlearners: {unlearners}\n{extra}")
    return path


def cells(out):
    with sqlite3.connect(out / "results.db") as db:
        db.row_factory = sqlite3.Row
        return {r["key"]: dict(r) for r in db.execute("SELECT * FROM cells")}


def metrics(out, key):
    with sqlite3.connect(out / "results.db") as db:
        return dict(db.execute("SELECT name, value FROM metrics WHERE cell = ?", (key,)).fetchall())


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def kit(install_plugins):
    return install_plugins("testkit")


def test_grid_order_puts_retrain_first(tmp_path, kit):
    v = validate(bench(tmp_path, "[ascent, exact]", seeds="[0]", ratios="[5, 10]"))
    grid = expand_grid(v)
    assert [(c.kind, c.label, c.ratio) for c in grid] == [
        ("retrain", "exact", 5), ("original", "original", 5), ("unlearned", "ascent", 5),
        ("retrain", "exact", 10), ("original", "original", 10), ("unlearned", "ascent", 10)]
    assert len({c.key for c in grid}) == len(grid)


def test_run_records_everything_and_rerun_does_nothing(tmp_path, kit):
    out = tmp_path / "out"
    v = validate(bench(tmp_path, "[exact, {name: ascent, args: {lr: 0.01}}]"))
    summary = run_benchmark(v, out)
    assert summary.exit_code == 0 and summary.cells == summary.ran == 12
    # data loaded and encoded once, one original per seed, signals once per (weights, split)
    assert summary.work["load"] == 1 and summary.work["encode"] == 1 and summary.work["train_original"] == 2
    assert summary.work["unlearn"] == 8
    assert len(list((out / "cache" / "originals").glob("*.safetensors"))) == 2
    rows = cells(out)
    assert len(rows) == 12 and {r["status"] for r in rows.values()} == {"done"}
    assert sorted(r["kind"] for r in rows.values()).count("original") == 4
    for key, r in rows.items():
        m = metrics(out, key)
        assert {"test/score", "forget/score", "retain/score", "ood/score", "time/seconds"} <= set(m)
        notes = json.loads(r["notes"])
        assert notes["forget_size"] == {5: 6, 10: 12}[r["ratio"]]
        assert notes["retain_sample_size"] == 60 == min(notes["retain_size"], 60)
        if r["kind"] == "unlearned":
            retrain = next(x for x in rows.values() if x["kind"] == "retrain" and (x["ratio"], x["seed"]) == (r["ratio"], r["seed"]))
            assert r["budget_seconds"] == pytest.approx(retrain["seconds"])  # the budget is retraining's time
            assert json.loads(r["optimizer"])["rule"] == "authors" and json.loads(r["optimizer"])["used"]["lr"] == 0.01
            assert m["time/seconds_vs_retrain"] == pytest.approx(r["seconds"] / retrain["seconds"])
            assert r["cut"] == 0 and r["weights"]
        if r["kind"] == "original":
            assert notes["source"] == "trained" and m["forget/score"] > m["test/score"]  # the original memorised Df
    with sqlite3.connect(out / "results.db") as db:
        config, versions, git = db.execute("SELECT config, versions, git FROM runs").fetchone()
    assert json.loads(config)["name"] == "t"
    resolved = json.loads(config)["resolved_args"]  # defaults recorded, not only what the file wrote
    assert resolved["tasks"]["toy_blobs"]["spread"] == 1.2 and resolved["unlearners"]["ascent"]["lr"] == 0.01
    assert {"torch", "mubench-harness", "mubench-plugin-testkit"} <= set(json.loads(versions))

    before = sha(out / "results.db")
    again = run_benchmark(validate(bench(tmp_path, "[exact, {name: ascent, args: {lr: 0.01}}]")), out)
    assert again.ran == 0 and again.work == {} and again.exit_code == 0
    assert sha(out / "results.db") == before  # byte for byte


def test_cached_originals_and_signals_are_reused(tmp_path, kit):
    out = tmp_path / "out"
    path = bench(tmp_path, "[ascent]", seeds="[0]", ratios="[10]")
    run_benchmark(validate(path), out)
    first = {r["kind"]: metrics(out, k) for k, r in cells(out).items()}
    (out / "results.db").unlink()
    again = run_benchmark(validate(path), out)
    # the original comes from the cache; the method, seeded, yields the same weights, so even its
    # signals are found in the cache by weights hash: no forward pass at all
    assert again.ran == 2 and again.work.get("train_original", 0) == 0 and again.work["signal_pass"] == 0
    second = {r["kind"]: metrics(out, k) for k, r in cells(out).items()}
    strip = lambda m: {k: v for k, v in m.items() if not k.startswith("time/")}  # noqa: E731
    assert strip(first["original"]) == strip(second["original"]) and strip(first["unlearned"]) == strip(second["unlearned"])


def test_failed_cells_are_isolated_and_redone(tmp_path, kit):
    out = tmp_path / "out"
    path = bench(tmp_path, "[explode, ascent]", seeds="[0]", ratios="[5, 10]", extra="metrics: [performance, boom]\n")
    summary = run_benchmark(validate(path), out)
    assert summary.exit_code == 1 and len(summary.failed) == 2
    rows = cells(out)
    for r in rows.values():
        if r["label"] == "explode":
            assert r["status"] == "failed" and "NonFiniteLoss" in r["error"] and "loss is nan" in r["error"]
            assert metrics(out, r["key"]) == {}
        else:
            assert r["status"] == "done"
            notes = json.loads(r["notes"])
            assert "ZeroDivisionError: boom metric always fails" in notes["metric_errors"]["boom"]  # recorded, not fatal
            assert "test/score" in metrics(out, r["key"])
    again = run_benchmark(validate(path), out)
    assert again.ran == 2 and again.exit_code == 1  # only the failed cells are redone


def test_budget_cuts_a_slow_method(tmp_path, kit):
    out = tmp_path / "out"
    path = bench(tmp_path, "[exact, {name: slow, args: {step_seconds: 0.05, epochs: 5}}]", seeds="[0]", ratios="[10]",
                 extra="budget: {max_fraction_of_retrain: 0.01}\n")
    run_benchmark(validate(path), out)
    slow = next(r for r in cells(out).values() if r["label"] == "slow")
    assert slow["status"] == "done" and slow["cut"] == 1
    assert json.loads(slow["notes"])["steps"] == 1  # stopped at the first step past its budget
    exact = next(r for r in cells(out).values() if r["label"] == "exact")
    assert exact["budget_seconds"] is None and slow["budget_seconds"] == pytest.approx(0.01 * exact["seconds"])


def test_flo_budget_cuts_by_counted_compute_not_by_the_clock(tmp_path, kit):
    """``budget: {measure: flos}``: a method stops once its counted FLOs pass the fraction of retraining's;
    a slow method that computes little is not cut, and the cut is the same on every run."""
    budget = "budget: {max_fraction_of_retrain: 0.05, measure: flos}\n"
    path = bench(tmp_path, "[exact, {name: ascent, args: {epochs: 40}}, {name: slow, args: {step_seconds: 0.05, epochs: 1}}]",
                 seeds="[0]", ratios="[10]", extra=budget)
    v = validate(path)
    run_benchmark(v, tmp_path / "a")
    rows = {r["label"]: r for r in cells(tmp_path / "a").values()}
    exact, ascent, slow = rows["exact"], rows["ascent"], rows["slow"]
    limit = json.loads(ascent["notes"])["budget_flops"]
    assert limit == pytest.approx(0.05 * exact["flos"]) and ascent["budget_seconds"] is None
    per_step = ascent["flos"] / json.loads(ascent["notes"])["steps"]
    assert ascent["cut"] == 1 and limit < ascent["flos"] <= limit + per_step, "stopped at the first step past its FLOs"
    assert slow["cut"] == 0 and slow["seconds"] > 0.05, "sleeping costs no FLOs"
    run_benchmark(v, tmp_path / "b")
    again = {r["label"]: r for r in cells(tmp_path / "b").values()}
    assert again["ascent"]["weights"] == ascent["weights"] and again["ascent"]["flos"] == ascent["flos"]


def test_budget_without_retrain_uses_original_training_time(tmp_path, kit):
    out = tmp_path / "out"
    run_benchmark(validate(bench(tmp_path, "[ascent]", seeds="[0]", ratios="[10]")), out)
    rows = list(cells(out).values())
    orig = next(r for r in rows if r["kind"] == "original")
    asc = next(r for r in rows if r["kind"] == "unlearned")
    assert json.loads(asc["notes"])["budget_source"].startswith("original training time")
    assert asc["budget_seconds"] == pytest.approx(orig["seconds"] * 108 / 120)


def test_checkpoint_original(tmp_path, kit):
    from safetensors.torch import save_model

    from mubench_harness.testing import build_family, build_task, train_original

    task = build_task("toy_blobs", n_train=120, n_test=60)
    built = build_family("toy_mlp").build(task, "tiny", seed=5)
    train_original(task, built, task.encode(task.load("mini")["train"], built), epochs=3)
    save_model(built.model, str(tmp_path / "orig.safetensors"))
    path = tmp_path / "b.yaml"
    path.write_text("name: c\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60},"
                    " models: [{name: toy_mlp, checkpoint: orig.safetensors}]}]\nunlearners: [ascent]\n")
    summary = run_benchmark(validate(path), tmp_path / "out")
    assert summary.exit_code == 0 and summary.work.get("train_original", 0) == 0
    orig = next(r for r in cells(tmp_path / "out").values() if r["kind"] == "original")
    assert json.loads(orig["notes"])["source"] == "checkpoint" and orig["seconds"] is None
    asc = next(r for r in cells(tmp_path / "out").values() if r["kind"] == "unlearned")
    assert json.loads(asc["notes"])["budget_source"].startswith("one epoch of the task recipe on Dr")
    assert summary.work["budget_epoch"] == 1 and asc["budget_seconds"] > 0
    from mubench_harness.signals import weights_hash

    assert orig["weights"] == weights_hash(built.model)  # the file's weights, not a fresh init


@pytest.mark.parametrize("content,words", [
    (b"garbage", "is not a readable safetensors file"),
    (b"\x80\x04\x95" + b"\x00" * 64, "is not a readable safetensors file"),  # a pickle's first bytes
    (None, "model.safetensors does not exist"),  # a folder without the file
])
def test_unreadable_checkpoint_is_bad_input_before_anything_starts(tmp_path, kit, capsys, content, words):
    from mubench_harness.cli import main

    if content is None:
        (tmp_path / "orig").mkdir()
        name = "orig"
    else:
        (tmp_path / "orig.safetensors").write_bytes(content)
        name = "orig.safetensors"
    path = tmp_path / "b.yaml"
    path.write_text("name: c\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60},"
                    f" models: [{{name: toy_mlp, checkpoint: {name}}}]}}]\nunlearners: [ascent]\n")
    assert main(["run", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    col = path.read_text().splitlines()[3].index(name) + 1
    assert err.startswith(f"{path}:4:{col}: checkpoint '{name}': ") and words in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_checkpoint_hub_id_is_downloaded(tmp_path, kit, monkeypatch):
    """``owner/name`` that is not a local path is a hub repository: its model.safetensors is fetched
    through huggingface_hub (mocked here: tests are offline)."""
    import huggingface_hub
    from safetensors.torch import save_model

    from mubench_harness.testing import build_family, build_task

    task = build_task("toy_blobs", n_train=120, n_test=60)
    built = build_family("toy_mlp").build(task, "tiny", seed=9)
    save_model(built.model, str(tmp_path / "hub.safetensors"))
    asked = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, filename: asked.append((repo, filename)) or str(tmp_path / "hub.safetensors"))
    path = tmp_path / "b.yaml"
    path.write_text("name: c\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60},"
                    " models: [{name: toy_mlp, checkpoint: someorg/toy-original}]}]\nunlearners: [ascent]\n")
    assert run_benchmark(validate(path), tmp_path / "out").exit_code == 0
    assert asked == [("someorg/toy-original", "model.safetensors")]


def test_kill_minus_9_then_rerun_holds_each_cell_once(tmp_path, kit, cli_env):
    out = tmp_path / "out"
    path = bench(tmp_path, "[{name: slow, args: {step_seconds: 0.1, epochs: 3}}]", seeds="[0, 1]", ratios="[5, 10]")
    proc = subprocess.Popen([*mubench_cmd(), "run", str(path), "--output-dir", str(out), "--no-progress"],
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:  # wait until some cell is done and another is mid-way
            if (out / "results.db").exists():
                try:
                    st = [s for (s,) in sqlite3.connect(out / "results.db").execute("SELECT status FROM cells")]
                except sqlite3.OperationalError:
                    st = []
                if "done" in st and "running" in st:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the run never reached a running cell")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = cells(out)
    assert "running" in {r["status"] for r in partial.values()}
    rerun = run_benchmark(validate(path), out)
    assert rerun.exit_code == 0 and 0 < rerun.ran < rerun.cells
    final = cells(out)
    grid = {c.key for c in expand_grid(validate(path))}
    assert set(final) == grid and len(final) == 8 and {r["status"] for r in final.values()} == {"done"}
    for key in grid:  # every cell's metrics present exactly once (primary key cell, name)
        assert metrics(out, key)


def test_changed_args_are_new_cells_and_the_report_shows_the_latest(tmp_path, kit):
    from mubench_harness.report import load_results

    out = tmp_path / "out"
    run_benchmark(validate(bench(tmp_path, "[{name: ascent, args: {lr: 0.01}}]", seeds="[0]", ratios="[10]")), out)
    summary = run_benchmark(validate(bench(tmp_path, "[{name: ascent, args: {lr: 0.02}}]", seeds="[0]", ratios="[10]")), out)
    assert summary.ran == 1  # the original's reference row is unchanged, the method's cell is new
    assert len(cells(out)) == 3
    assert len(load_results(out).cells) == 2
    # a changed task setting (data, decoding, sampling) makes every cell of the task new
    changed = bench(tmp_path, "[{name: ascent, args: {lr: 0.02}}]", seeds="[0]", ratios="[10]").read_text()
    path = tmp_path / "c.yaml"
    path.write_text(changed.replace("n_test: 60", "n_test: 61"))
    assert run_benchmark(validate(path), out).ran == 2


def test_given_original_is_not_trained(tmp_path, kit, cli_env):
    """A scale whose pretrained weights are the original (``given``): no training, no retraining (left out
    of the grid, and ``validate`` says so), budget = one epoch of the recipe; other scales train as usual."""
    from mubench_harness.specs import ModelSpec

    path = tmp_path / "g.yaml"
    path.write_text("name: g\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 120, "
                    "n_test: 60}, models: [{name: given_mlp, scales: [tiny, small]}]}]\nunlearners: [exact, ascent]\n")
    v = validate(path)
    assert v.given == [("toy_blobs", "given_mlp", "tiny")]
    assert [(c.scale, c.kind) for c in expand_grid(v)] == [
        ("tiny", "original"), ("tiny", "unlearned"), ("small", "retrain"), ("small", "original"), ("small", "unlearned")]
    out = subprocess.run([*mubench_cmd(), "validate", str(path)], env=cli_env(), capture_output=True, text=True)
    assert out.returncode == 0 and "given_mlp:tiny on toy_blobs is the original as given" in out.stdout
    summary = run_benchmark(v, tmp_path / "out")
    assert summary.exit_code == 0 and summary.work["train_original"] == 1 and summary.work["budget_epoch"] == 1
    orig = next(r for r in cells(tmp_path / "out").values() if r["kind"] == "original" and r["scale"] == "tiny")
    assert json.loads(orig["notes"])["source"] == "given"
    assert metrics(tmp_path / "out", orig["key"])["test/score"] < 0.6  # an untrained MLP: near chance, not memorised
    with pytest.raises(ValueError, match="given scales \\['large'\\] are not among its scales"):
        ModelSpec(name="m", factory="a:b", summary="s", scales={"tiny": None}, given=("large",))

    # with a FLO budget, the given original's allowance is one epoch of the recipe's FLOs
    flos = tmp_path / "f.yaml"
    flos.write_text(path.read_text() + "budget: {measure: flos}\n")
    run_benchmark(validate(flos), tmp_path / "flos")
    asc = next(r for r in cells(tmp_path / "flos").values() if r["kind"] == "unlearned" and r["scale"] == "tiny")
    notes = json.loads(asc["notes"])
    assert notes["budget_source"].startswith("one epoch of the task recipe on Dr") and notes["budget_flops"] > 0


def test_a_cell_does_not_depend_on_what_ran_before_it(tmp_path, kit):
    """A method drawing from torch's global RNG (dropout here) gives the same model whether its cell runs
    first in a fresh process or after other work (a resumed sweep reruns cells one by one). The budget
    counts FLOs: a time budget would cut the method at a step that depends on the machine's load."""
    v = validate(bench(tmp_path, "[{name: dropout_ascent, args: {lr: 0.01, epochs: 3}}]", seeds="[0]", ratios="[10]",
                       extra="budget: {measure: flos}\n"))

    def unlearned_weights(out):
        run_benchmark(v, out)
        cell = next(r for r in cells(out).values() if r["kind"] == "unlearned")
        assert not cell["cut"]  # all three epochs ran: the weights compare the same work
        return cell["weights"]

    torch.manual_seed(1)
    first = unlearned_weights(tmp_path / "a")
    torch.rand(12345)
    assert unlearned_weights(tmp_path / "b") == first


def test_spilled_columns_give_the_same_results_and_are_removed(tmp_path, kit, monkeypatch):
    """A column written to disk (MUBENCH_SPILL_BYTES=0 spills everything) trains, unlearns and evaluates
    exactly as in memory; the run's spill folder is gone when the run ends."""
    text = ("name: s\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: blobs_column, args: {n_train: 120, "
            "n_test: 60}, models: [toy_mlp]}]\nunlearners: [exact, {name: dropout_ascent, args: {lr: 0.01}}]\n")
    (tmp_path / "s.yaml").write_text(text)
    v = validate(tmp_path / "s.yaml")
    run_benchmark(v, tmp_path / "memory")
    stale = tmp_path / "disk" / "cache" / "rows" / "left-by-a-killed-run"
    stale.mkdir(parents=True)
    (stale / "column-0.npy").write_bytes(b"x" * 100)
    monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
    seen = []
    from mubench_harness import data

    real = data.ColumnBuffer.finish
    monkeypatch.setattr(data.ColumnBuffer, "finish", lambda self: seen.append(real(self)) or seen[-1])
    run_benchmark(v, tmp_path / "disk")
    assert seen and all(isinstance(c, data.DiskColumn) for c in seen), "every column went to a file"
    assert not any((tmp_path / "disk" / "cache" / "rows").iterdir()), "spilled columns (and stale ones) removed"
    a, b = cells(tmp_path / "memory"), cells(tmp_path / "disk")
    assert a.keys() == b.keys()
    for key in a:
        assert a[key]["weights"] == b[key]["weights"]
        ma, mb = metrics(tmp_path / "memory", key), metrics(tmp_path / "disk", key)
        assert {k: v for k, v in ma.items() if not k.startswith("time/")} == \
               {k: v for k, v in mb.items() if not k.startswith("time/")}


def test_accelerate_backend(tmp_path, kit, monkeypatch):
    """The distributed block builds an accelerate.Accelerator that the original's training and the
    method's ctx.train both run through (single CPU process here), and that lets go of each cell's models."""
    from mubench_harness import resources

    built = []
    real = resources.build_device
    monkeypatch.setattr(resources, "build_device", lambda bench, *a: built.append(real(bench, *a)) or built[-1])
    path = bench(tmp_path, "[exact, ascent]", seeds="[0]", ratios="[10]", extra="distributed: {backend: accelerate}\n")
    summary = run_benchmark(validate(path), tmp_path / "out")
    assert summary.exit_code == 0 and summary.work["train_original"] == 1
    accelerator = built[0][1]
    assert type(accelerator).__name__ == "Accelerator"
    assert accelerator._models == [] and accelerator._optimizers == [], "prepared models kept after their cell"
    rows = cells(tmp_path / "out")
    assert {r["status"] for r in rows.values()} == {"done"}
    with sqlite3.connect(tmp_path / "out" / "results.db") as db:
        assert json.loads(db.execute("SELECT config FROM runs").fetchone()[0])["distributed"]["backend"] == "accelerate"


def test_one_run_per_output_folder(tmp_path, kit):
    import fcntl

    from mubench_harness.runner import RunInProgress

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunInProgress, match="another `mubench run` is using"):
            run_benchmark(validate(bench(tmp_path, "[ascent]", seeds="[0]", ratios="[10]")), out)
    assert not (out / "results.db").exists()


def test_unavailable_device_is_bad_input_and_creates_nothing(tmp_path, kit, monkeypatch, capsys):
    import torch

    from mubench_harness.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = bench(tmp_path, "[ascent]", seeds="[0]", ratios="[10]", extra="device: cuda\n")
    assert main(["run", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    assert "no CUDA device is available" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _file_bench(tmp_path, rows: dict, data="data/blobs.json"):
    """A benchmark on the test plugin's ``blobs_file`` task, its data at ``data`` beside the file."""
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "blobs.json").write_text(json.dumps(rows))
    path = tmp_path / "b.yaml"
    path.write_text("name: f\nseeds: [0]\ndeletion_ratios: [10]\n"
                    f"tasks: [{{name: blobs_file, source: hub, args: {{path: {data}, dim: 2}}, models: [toy_mlp]}}]\n"
                    "unlearners: [ascent]\n")
    return path


def _blob_rows(n):
    return [{"features": [float(i % 2), float(i % 3)], "label": i % 2} for i in range(n)]


def test_local_data_paths_are_relative_to_the_benchmark_file(tmp_path, kit, monkeypatch):
    path = _file_bench(tmp_path, {"train": _blob_rows(40), "test": _blob_rows(20)})
    monkeypatch.chdir(tmp_path / "data")  # not the file's folder: the path must not depend on the cwd
    v = validate(path)
    assert v.task_args["blobs_file"].path == str(tmp_path / "data" / "blobs.json")
    summary = run_benchmark(v, tmp_path / "out")
    assert summary.failed == [] and summary.ran == 2


def test_missing_local_data_path_is_a_located_validation_error(tmp_path, kit):
    from mubench_harness.config import ConfigError

    path = _file_bench(tmp_path, {}, data="data/missing.json")
    with pytest.raises(ConfigError) as err:
        validate(path)
    line = path.read_text().splitlines()[3]
    assert (err.value.line, err.value.col) == (4, line.index("data/missing.json") + 1), "located at the value"
    assert "argument path: path 'data/missing.json' does not exist (relative to" in err.value.message


def test_unreadable_data_is_bad_input_before_anything_starts(tmp_path, kit, capsys):
    from mubench_harness.cli import main

    rows = _blob_rows(40)
    rows[7] = {"features": [1.0], "label": 0}
    path = _file_bench(tmp_path, {"train": rows, "test": _blob_rows(20)})
    assert main(["run", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"{path}:4:") and "task 'blobs_file': its 'hub' data cannot be loaded: ValueError:" in err
    assert "train row 7: need 2 features" in err
    assert not (tmp_path / "out").exists(), "nothing is created when the data cannot be read"


def test_a_failing_logger_does_not_stop_the_sweep(tmp_path, kit, capsys):
    from mubench_harness import hookimpl
    from mubench_harness.plugins import load_registry

    class Broken:
        @hookimpl
        def mubench_cell_finished(self, cell, outcome):
            raise OSError("disk full")

    path = bench(tmp_path, "[ascent]", seeds="[0]", ratios="[10]")
    summary = run_benchmark(validate(path, registry=load_registry(extra_plugins=(Broken(),))), tmp_path / "out")
    assert summary.exit_code == 0 and summary.ran == 2
    assert capsys.readouterr().err.count("OSError: disk full") == 2


def test_run_prints_its_own_grid_even_when_nothing_is_left(tmp_path, kit, capsys):
    from mubench_harness.cli import main

    a = bench(tmp_path, "[{name: ascent, args: {lr: 0.01}}]", seeds="[0]", ratios="[10]", name="a.yaml")
    b = bench(tmp_path, "[exact]", seeds="[0]", ratios="[10]", name="b.yaml")
    out = str(tmp_path / "out")
    assert main(["run", str(a), "--output-dir", out, "--no-progress"]) == 0
    assert main(["run", str(b), "--output-dir", out, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["run", str(a), "--output-dir", out, "--no-progress"]) == 0  # nothing to run: a's table
    table = capsys.readouterr().out
    assert "ascent" in table and "exact" not in table


class InputDropout(torch.nn.Module):
    """A model whose training draws randomness (dropout on its inputs)."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.dropout = inner, torch.nn.Dropout(0.5)

    def forward(self, **inputs):
        return self.inner(**{k: self.dropout(v) for k, v in inputs.items()})


def test_the_original_is_trained_reproducibly_whatever_the_global_rng():
    """Dropout and other in-training randomness come from the cell's seed, not from the process's history."""

    from mubench_harness.resources import fit_recipe
    from mubench_harness.testing import build_family, build_task, params_equal

    task = build_task("toy_blobs", n_train=80, n_test=40)
    data = task.load("mini")
    fam = build_family("toy_mlp")
    trained = []
    for history in (1, 2):
        built = fam.build(task, "tiny", seed=0)
        rows = task.encode(data["train"], built)
        torch.manual_seed(history)  # a different process history each time
        model, _, _ = fit_recipe(task, built, InputDropout(built.model), rows, seed=3, device=torch.device("cpu"), epochs=2)
        trained.append(model)
    assert params_equal(*trained)
