"""Every hook in hookspecs.py has a test here named ``test_hook_<hook name>`` (checked below)."""
from __future__ import annotations

import inspect

from mubench_harness import hookimpl, hookspecs
from mubench_harness.plugins import load_registry
from mubench_harness.specs import MetricSpec, ModelSpec, TaskSpec, UnlearnerSpec


def test_every_hookspec_has_a_test():
    specs = {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("mubench_")}
    tests = {name.removeprefix("test_hook_") for name in globals() if name.startswith("test_hook_")}
    assert specs and specs <= tests, f"hooks without a test: {sorted(specs - tests)}"
    for name in specs:  # documented with its signature
        assert getattr(hookspecs, name).__doc__


class Plugin:
    """A plugin object registered with ``load_registry(extra_plugins=...)``."""

    @hookimpl
    def mubench_tasks(self):
        yield TaskSpec(name="hook_task", factory="m:T", summary="a task from a hook")

    @hookimpl
    def mubench_models(self):
        return [ModelSpec(name="hook_model", factory="m:M", summary="s", scales={"tiny": None}, serves=("tabular",))]

    @hookimpl
    def mubench_unlearners(self):
        yield UnlearnerSpec(name="hook_method", factory="m:U", summary="s")

    @hookimpl
    def mubench_metrics(self):
        yield MetricSpec(name="hook_metric", factory="m:X", summary="s")


def test_hook_mubench_tasks():
    reg = load_registry(extra_plugins=(Plugin(),))
    assert reg.get("tasks", "hook_task").summary == "a task from a hook"


def test_hook_mubench_models():
    reg = load_registry(extra_plugins=(Plugin(),))
    assert reg.get("models", "hook_model").serves_task(reg.get("tasks", "toy_blobs"))


def test_hook_mubench_unlearners():
    assert load_registry(extra_plugins=(Plugin(),)).get("unlearners", "hook_method").factory == "m:U"


def test_hook_mubench_metrics():
    assert load_registry(extra_plugins=(Plugin(),)).get("metrics", "hook_metric")


def test_hook_yielding_the_wrong_type_marks_the_plugin_broken():
    class Wrong:
        @hookimpl
        def mubench_tasks(self):
            yield UnlearnerSpec(name="x", factory="m:U", summary="s")

    reg = load_registry(extra_plugins=(Wrong(),))
    assert "expected TaskSpec" in reg.broken[0].error and "x" not in reg.components["tasks"]


def _toy_benchmark(tmp_path, install_plugins):
    from mubench_harness.config import validate

    install_plugins("testkit")
    path = tmp_path / "b.yaml"
    path.write_text(
        "name: h\nseeds: [0]\ndeletion_ratios: [10]\n"
        "tasks: [{name: toy_blobs, args: {n_train: 80, n_test: 40}, models: [toy_mlp]}]\n"
        "unlearners: [{name: ascent}]\nmetrics: [performance]\n")
    return path, validate


def test_hook_mubench_run_cell(tmp_path, install_plugins):
    """A wrapper sees every cell and its outcome; a plugin returning first replaces the core's run."""
    from mubench_harness.runner import CellOutcome, run_benchmark

    path, validate = _toy_benchmark(tmp_path, install_plugins)
    seen = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def mubench_run_cell(self, cell, runtime):
            outcome = yield
            seen.append((cell.kind, outcome.status))
            return outcome

    class Replace:
        @hookimpl
        def mubench_run_cell(self, cell, runtime):
            if cell.kind == "unlearned":
                return CellOutcome(cell.record("done", metrics={"replaced": 1.0}))
            return None  # let the core run the original's reference row

    summary = run_benchmark(validate(path, registry=load_registry(extra_plugins=(Wrapper(), Replace()))), tmp_path / "out")
    assert summary.exit_code == 0
    assert seen == [("original", "done"), ("unlearned", "done")]
    from mubench_harness.report import load_results

    by_kind = {c["kind"]: c for c in load_results(tmp_path / "out").cells}
    assert by_kind["unlearned"]["metrics"] == {"replaced": 1.0}
    assert "test/score" in by_kind["original"]["metrics"]


def test_hook_mubench_cell_finished(tmp_path, install_plugins):
    """Called after each cell's result is committed: the logger can read it back from the database."""
    import sqlite3

    from mubench_harness.runner import run_benchmark

    path, validate = _toy_benchmark(tmp_path, install_plugins)
    out = tmp_path / "out"
    finished = []

    class Logger:
        @hookimpl
        def mubench_cell_finished(self, cell, outcome):
            with sqlite3.connect(out / "results.db") as db:
                status = db.execute("SELECT status FROM cells WHERE key = ?", (cell.key,)).fetchone()[0]
            finished.append((cell.label, outcome.status, status))

    run_benchmark(validate(path, registry=load_registry(extra_plugins=(Logger(),))), out)
    assert finished == [("original", "done", "done"), ("ascent", "done", "done")]


def test_hook_mubench_executors(tmp_path, install_plugins):
    """A plugin's executor is chosen by ``executor: {use: ...}``, gets its args parsed by its own model, and
    runs the groups through the driver's recorder: every cell lands in the database, retrain first per group."""
    from pydantic import BaseModel, ConfigDict

    from mubench_harness.executors import LocalExecutor
    from mubench_harness.report import load_results
    from mubench_harness.runner import run_benchmark
    from mubench_harness.specs import ExecutorSpec

    class ReversedArgs(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tag: str

    seen = []

    class Reversed:  # groups last-first, each group in its own order
        def __init__(self, args):
            self.args = args

        def run(self, groups, run_cell, recorder):
            seen.append((self.args.tag, [[c.kind for c in g] for g in groups]))
            LocalExecutor().run(groups[::-1], run_cell, recorder)

    class Plugin:
        @hookimpl
        def mubench_executors(self):
            yield ExecutorSpec(name="reversed", factory=f"{__name__}:_REVERSED", summary="s", args=ReversedArgs)

    globals()["_REVERSED"] = Reversed
    install_plugins("testkit")
    from mubench_harness.config import validate

    path = tmp_path / "b.yaml"
    path.write_text(
        "name: h\nseeds: [0]\ndeletion_ratios: [5, 10]\n"
        "tasks: [{name: toy_blobs, args: {n_train: 80, n_test: 40}, models: [toy_mlp]}]\n"
        "unlearners: [ascent, exact]\nmetrics: [performance]\nexecutor: {use: reversed, tag: x}\n")
    reg = load_registry(extra_plugins=(Plugin(),))
    assert reg.get("executors", "local").factory == "mubench_harness.executors:LocalExecutor"
    summary = run_benchmark(validate(path, registry=reg), tmp_path / "out")
    assert summary.exit_code == 0 and summary.ran == 6
    assert seen == [("x", [["retrain", "original", "unlearned"]] * 2)]
    assert {c["key"] for c in load_results(tmp_path / "out").cells} == set(summary.keys)
