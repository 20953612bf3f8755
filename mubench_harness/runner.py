"""The grid runner: resume, failure isolation, the executor, and the default ``mubench_run_cell``.

The grid and its order are :mod:`mubench_harness.grid`'s; what cells share is
:mod:`mubench_harness.execution`'s Runtime, and one cell's course is :mod:`mubench_harness.cells`.
This module is a built-in plugin (it registers the default cell implementation), so its top imports
nothing heavy.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Validated
from .executors import group_cells
from .hookspecs import hookimpl
from .grid import Cell, CellOutcome, expand_grid  # noqa: F401 - expand_grid: the runner's public name
from .store import Store, now, open_store


@dataclass
class RunSummary:
    output_dir: Path
    cells: int  # cells in the grid
    keys: list[str]  # the grid's cell keys, in run order
    ran: int  # cells run now
    failed: list[str] = field(default_factory=list)  # keys of failed cells in the grid (now or before)
    skipped_pairs: list[tuple[str, str]] = field(default_factory=list)
    #: what was computed (data loads, encodings, original trainings, unlearnings, signal passes)
    work: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_config(v: Validated) -> dict[str, Any]:
    """The benchmark as written plus every argument as resolved (defaults filled in): what a run
    records, so decoding, sampling and method settings are read from results, not from source."""
    from .training_recipes import benchmark_recipes, recipes_record

    resolved = {"tasks": {name: a.model_dump(mode="json") for name, a in v.task_args.items()},
                "unlearners": {label: a.model_dump(mode="json") for label, a in v.unlearner_args.items()},
                "metrics": {name: a.model_dump(mode="json") for name, a in v.metric_args.items()},
                # "task/model/scale" -> the recipe that trains the original and retrains, with its source
                "recipes": recipes_record(benchmark_recipes(v))}
    return {**v.bench.model_dump(mode="json"), "resolved_args": resolved}


def run_benchmark(v: Validated, output_dir: str | Path | None = None, *, progress: bool | None = None,
                  executor_name: str | None = None) -> RunSummary:
    """Run every cell of the grid that is not ``done`` yet, through the benchmark's executor (or
    ``executor_name``, from ``mubench run --executor``). Nothing is written when nothing is pending,
    so rerunning a finished benchmark leaves its database byte-for-byte unchanged."""
    from .distributed import is_main

    out = Path(output_dir) if output_dir is not None else v.output_dir
    cells = expand_grid(v)
    keys = [c.key for c in cells]
    statuses = _statuses(out / "results.db") if is_main() else {}
    pending = [c for c in cells if statuses.get(c.key) != "done"]
    if not pending and is_main() and not _launched():
        return RunSummary(out, len(cells), keys, 0, skipped_pairs=list(v.skipped))

    from tqdm.auto import tqdm

    from .execution import Runtime
    from .preflight import check_checkpoints, load_tasks

    executor = make_executor(v, executor_name)  # an unknown executor is bad input: before anything starts
    from .resources import build_device

    # an unavailable device, a checkpoint that is no safetensors file or unreadable data is bad input:
    # fail before creating anything
    device = build_device(v.bench, v.base_dir)
    if _launched():  # rank 0 read the database: every rank runs its pending cells, in its order
        from .distributed.ranks import broadcast

        pending = [cells[i] for i in broadcast([i for i, c in enumerate(cells) if c in pending])]
    summary = RunSummary(out, len(cells), keys, len(pending), skipped_pairs=list(v.skipped))
    if not pending:
        return summary
    main = is_main()
    names = dict.fromkeys(c.task for c in pending)
    check_checkpoints(v, names)
    tasks = load_tasks(v, names)
    store = lock = run_id = None
    if main:  # rank 0 alone writes the database (the other ranks compute with it, in step)
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out)
        store = open_store(out)
        run_id = store.start_run(run_config(v), keys)
    runtime = Runtime(v, out, store, progress=progress if main else False, device=device, tasks=tasks)
    hook = v.registry.manager.hook
    recorder = None
    bar = tqdm(total=len(pending), desc=f"mubench {v.bench.name}", unit="cell", disable=_no_bar(progress) or not main,
               file=sys.stderr)
    try:
        if main:
            recorder = _StoreRecorder(store, run_id, hook, bar)
            executor.run(group_cells(pending), CellRunner(str(v.doc.file), str(out), runtime), recorder)
        else:  # in step with rank 0's cells, in its order; their records are rank 0's to write
            from .cells import run_cell

            for cell in pending:
                run_cell(runtime, cell)
        final = {}
        if main:
            store.finish_run(run_id)
            final = store.statuses()
    finally:
        bar.close()
        work = Counter(runtime.work)  # a copy keeps the zero counts (Counter's + would drop them)
        work.update(recorder.work if recorder is not None else {})
        summary.work = dict(work)
        runtime.close()
        if main:
            store.close()
            lock.close()
    if _launched():  # every rank exits with rank 0's verdict
        from .distributed.ranks import broadcast

        final = broadcast(final)
    summary.failed = [k for k in keys if final.get(k) == "failed"]
    return summary


def make_executor(v: Validated, name: str | None = None):
    """The executor the benchmark file's ``executor:`` block names, or ``name`` (``--executor``, which
    takes that executor with its default arguments when the file names another)."""
    block = v.bench.executor
    chosen = name or block.use
    spec = v.registry.get("executors", chosen)
    args = v.executor_args if chosen == block.use and v.executor_args is not None else spec.args()
    return spec.load()(args)


def run_one_cell(hook, cell: Cell, runtime) -> CellOutcome:
    """One cell through ``mubench_run_cell``; never raises (a wrapper plugin's failure fails this cell only)."""
    started = now()
    try:
        outcome = hook.mubench_run_cell(cell=cell, runtime=runtime)
        if outcome is None:
            raise RuntimeError("no mubench_run_cell implementation returned a result")
    except Exception:  # noqa: BLE001
        import traceback

        outcome = CellOutcome(cell.record("failed", started=started, error=traceback.format_exc()))
    return outcome


class CellRunner:
    """The executor's ``run_cell``: runs one cell through ``mubench_run_cell`` and returns its outcome.

    In the driver it uses the run's own runtime. It pickles without it: a remote worker (Ray) rebuilds
    one from the benchmark file and the output folder (a filesystem the workers share: the caches of
    originals, encodings and signals live there), once per worker process, with no results.db; the
    driver sends it the done retrain rows of the cell's group (:meth:`references`)."""

    def __init__(self, bench_file: str, output_dir: str, runtime=None):
        self.bench_file, self.output_dir, self.runtime = bench_file, output_dir, runtime

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "runtime": None, "_retrain_keys": None}

    def __call__(self, cell: Cell, references: dict[str, dict[str, Any]] | None = None) -> CellOutcome:
        if self.runtime is not None:
            return run_one_cell(self.runtime.registry.manager.hook, cell, self.runtime)
        runtime = _worker_runtime(self.bench_file, self.output_dir)
        runtime.done_cells.update(references or {})
        before = Counter(runtime.work)
        outcome = run_one_cell(runtime.registry.manager.hook, cell, runtime)
        outcome.work = dict(runtime.work - before)  # the driver's summary adds it to its own
        return outcome

    def references(self, cell: Cell) -> dict[str, dict[str, Any]]:
        """{key: weights, seconds, flos} of the done retrain cells of ``cell``'s group, from the driver's database."""
        store = self.runtime.store
        if getattr(self, "_retrain_keys", None) is None:  # group -> its retrain keys, once (the grid may be 20,000 cells)
            self._retrain_keys: dict[tuple, list[str]] = {}
            for c in expand_grid(self.runtime.v):
                if c.kind == "retrain":
                    self._retrain_keys.setdefault(c.group, []).append(c.key)
        keys = self._retrain_keys.get(cell.group, [])
        rows = [store.db.execute("SELECT weights, seconds, flos FROM cells WHERE key=? AND status='done'", (k,)).fetchone()
                for k in keys]
        return {k: dict(r) for k, r in zip(keys, rows) if r is not None}


#: (benchmark file, output folder) -> the runtime a remote worker process built for it
_WORKER_RUNTIMES: dict[tuple[str, str], Any] = {}


def _worker_runtime(bench_file: str, output_dir: str):
    if (bench_file, output_dir) not in _WORKER_RUNTIMES:
        from .config import validate
        from .execution import Runtime

        v = validate(bench_file)
        _WORKER_RUNTIMES[bench_file, output_dir] = Runtime(v, Path(output_dir), None, progress=False, owns_folder=False)
    return _WORKER_RUNTIMES[bench_file, output_dir]


class _StoreRecorder:
    """The driver's side of the executor contract: it alone writes ``results.db``, one transaction a cell."""

    def __init__(self, store: Store, run_id, hook, bar):
        self.store, self.run_id, self.hook, self.bar = store, run_id, hook, bar
        self.running = self.failed = 0
        self.work: Counter[str] = Counter()  # what worker processes computed (their outcomes say)

    def started(self, cell: Cell) -> None:
        self.store.mark_running(cell.record("running", started=now()), self.run_id)
        self.running += 1
        self._show()

    def finished(self, cell: Cell, outcome: CellOutcome) -> None:
        self.store.finish_cell(outcome.record, self.run_id)
        self.running -= 1
        self.failed += outcome.status == "failed"
        self.work.update(outcome.work)
        self.bar.update(1)
        self._show()
        try:
            self.hook.mubench_cell_finished(cell=cell, outcome=outcome)
        except Exception as exc:  # noqa: BLE001 - a logger's failure never stops the sweep
            print(f"warning: a mubench_cell_finished hook failed for {cell.key}: {type(exc).__name__}: {exc}", file=sys.stderr)

    def _show(self) -> None:
        self.bar.set_postfix_str(f"running {self.running}, failed {self.failed}", refresh=False)


def _statuses(db_path: Path) -> dict[str, str]:
    if not db_path.is_file():
        return {}
    probe = Store(db_path)
    try:
        return probe.statuses()
    finally:
        probe.close()


def _launched() -> bool:
    from .distributed import world_size

    return world_size() > 1


class RunInProgress(RuntimeError):
    """Another ``mubench run`` holds the output folder."""


def _lock(out: Path):
    """An exclusive lock on the output folder for the whole run (released when the process dies)."""
    import fcntl

    handle = open(out / ".lock", "w")  # noqa: SIM115 - held until the run ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RunInProgress(f"{out}: another `mubench run` is using this output folder") from None
    return handle


def _no_bar(progress: bool | None) -> bool | None:
    # None lets tqdm decide: bars on a terminal, silent when output is captured (tests, CI logs)
    return None if progress is None else not progress


@hookimpl(trylast=True)
def mubench_run_cell(cell, runtime):
    """The core's own cell implementation; plugins wrap it or return first to replace it."""
    from .cells import run_cell

    return run_cell(runtime, cell)
