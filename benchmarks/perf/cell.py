"""A whole cell through ``mubench`` against a bare loop plus bare forward passes (issue 14).

The cell: IMDB's mini source at 25,000 training rows (2,500 test), the tiny BERT, RandLabel for one
epoch at batch 32 with its authors' SGD, Df = 10 %, one seed. A first, untimed ``mubench run`` trains and
caches the original (its recipe cut to one epoch) and fills the encoded-rows and signal caches, as any
finished benchmark has. Each timed repeat then runs the benchmark with one more RandLabel label
(``run_benchmark``: validation, data, encodings from the cache, the original from its cache, the
unlearning, the signal passes, every metric, the database), against, on the same rows and weights:

- **bare**: one hand-written epoch of cross-entropy over corrupted Df ∪ Dr (same rows, same batch size,
  same optimizer, padding trimmed per batch as the task does), then hand-written forward passes over the
  splits the cell evaluates (test, Df, the Dr sample; the original's are cached on both sides).

Both sides run once untimed first (one more harness run, one bare run), then alternate A/B,
B/A, ... for ``--repeats`` repeats in one process, one torch thread each. Each phase's time is printed
(from the cell's database row); the ratio reported, last, is the median over repeats of each repeat's
harness/bare wall-time ratio (its two sides ran back to back, under one load), with their spread and
the same ratio of process CPU time beside it.

    OMP_NUM_THREADS=1 python benchmarks/perf/cell.py [--rows 25000] [--repeats 5]
"""
from __future__ import annotations

import copy
import itertools
import sqlite3
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import alternate, bare_forward, bare_train, parser, report_paired, set_threads  # noqa: E402

BENCH = """name: perf-cell
seeds: [0]
deletion_ratios: [10]
tasks:
  - name: imdb
    source: mini
    args: {{mini_train: {rows}, mini_test: {test}, max_length: {seq_len}}}
    models: [{{name: bert, scales: [tiny], recipe: {{epochs: 1}}}}]
unlearners: [{{name: randlabel, label: {label}, args: {{epochs: 1, batch_size: 32, lr: {lr}}}}}]
budget: {{max_fraction_of_retrain: 1000}}  # never cut: both sides do the whole epoch
"""


def write(folder: Path, ns, label: str) -> Path:
    path = folder / f"{label}.yaml"
    # a learning rate a hair different per label: other weights, so no repeat reads an earlier one's signals
    # (labels are unique per run and repeat, so a reused --work-dir never finds a repeat's cell done)
    lr = 0.01 * (1 + 1e-6 * (0 if label == "warm" else 1 + zlib.crc32(label.encode()) % 100_000))
    path.write_text(BENCH.format(rows=ns.rows, test=ns.test, seq_len=ns.seq_len, label=label, lr=lr))
    return path


PHASES = {"prepared": "data and encodings", "original": "original from its cache",
          "signals_of": "signal passes", "evaluate": "metrics"}


def timed_phases(runtime_class) -> dict[str, float]:
    """Accumulate the time spent in the runner's phase methods (the benchmark instruments, not the harness)."""
    spent = dict.fromkeys(PHASES, 0.0)
    for name in PHASES:
        inner = getattr(runtime_class, name)

        def wrapper(self, *a, _inner=inner, _name=name, **kw):
            t = time.perf_counter()
            try:
                return _inner(self, *a, **kw)
            finally:
                spent[_name] += time.perf_counter() - t
        setattr(runtime_class, name, wrapper)
    return spent


def main(argv=None) -> None:
    p = parser(__doc__, repeats=5)
    p.add_argument("--rows", type=int, default=25_000)
    p.add_argument("--test", type=int, default=2_500)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--work-dir", help="folder kept across runs: a later run finds the original trained and the rows "
                   "encoded there, and skips that untimed part (default: a new temporary folder)")
    ns = p.parse_args(argv)
    print(set_threads(ns.threads))

    from mubench_harness.config import validate
    from mubench_harness.execution import Runtime
    from mubench_harness.runner import expand_grid, run_benchmark
    from mubench_harness.text_classification import trim_padding
    from mubench_randlabel import Args

    folder = Path(ns.work_dir) if ns.work_dir else Path(tempfile.mkdtemp(prefix="mubench-perf-cell-"))
    folder.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:6]
    out = folder / "out"
    start = time.perf_counter()
    first = run_benchmark(validate(write(folder, ns, "warm")), out, progress=False)
    print(f"untimed first run in {folder} (original trained and cached, rows encoded, unless an earlier run did): "
          f"{time.perf_counter() - start:.1f}s, "
          f"work {first.work}")

    # the same rows and original weights, for the bare side
    v = validate(write(folder, ns, "warm"))
    runtime = Runtime(v, out, None, progress=False)
    cell = next(c for c in expand_grid(v) if c.kind == "unlearned")
    prepared, split, original = runtime.prepared(cell.task, cell.model, cell.scale), runtime.split(cell), runtime.original(cell)
    args = Args(epochs=1, batch_size=32)
    k = prepared.task.num_classes

    def batches(rows, size, order=None, labels=None):
        n = len(rows)
        order = torch.arange(n) if order is None else order
        for i in range(0, n, size):
            pos = order[i : i + size]
            b = trim_padding({"input_ids": rows["input_ids"][pos], "attention_mask": rows["attention_mask"][pos]})
            yield (b, labels[pos]) if labels is not None else b

    def bare():
        model = copy.deepcopy(original.model).requires_grad_(True)
        g = torch.Generator().manual_seed(1)
        wrong = torch.randint(0, k - 1, split.forget["labels"].shape, generator=g)
        wrong = wrong + (wrong >= split.forget["labels"]).long()
        from mubench_harness.data import Rows

        rows = Rows.concat([split.forget, split.retain])
        labels = torch.cat([wrong, split.retain["labels"]])
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.optimizer.momentum,
                              weight_decay=args.optimizer.weight_decay)
        bare_train(model, batches(rows, 32, torch.randperm(len(rows), generator=g), labels), opt)
        for rows in (prepared.test, split.forget, split.retain_sample):
            bare_forward(model, batches(rows, 256))

    phases: list[dict] = []
    labels = itertools.count()
    spent = timed_phases(Runtime)

    def harness():
        label = f"rl-{run_id}-{next(labels)}"
        for name in spent:
            spent[name] = 0.0
        summary = run_benchmark(validate(write(folder, ns, label)), out, progress=False)
        assert summary.ran == 1 and summary.work.get("encoded_rows", 0) == 0 and not summary.work.get("train_original")
        with sqlite3.connect(out / "results.db") as db:
            seconds, cut = db.execute("SELECT seconds, cut FROM cells WHERE label = ?", (label,)).fetchone()
        assert not cut
        phases.append({"unlearning": seconds, **spent})

    print(f"rows {ns.rows} (Df {len(split.forget)}, Dr {len(split.retain)}, test {len(prepared.test)}, "
          f"Dr sample {len(split.retain_sample)}), batch 32, one epoch")
    # one untimed run of each side first: first-call paths (imports, the first data load), the allocator's
    # pools; with a reused --work-dir the first run above found everything done and warmed nothing
    harness()
    phases.clear()
    bare()
    cpu: dict[str, list[float]] = {}
    times = alternate({"harness": harness, "bare": bare}, ns.repeats, cpu)
    for i, ph in enumerate(phases):
        total = times["harness"][i]
        # the original's time includes loading the data it is built for; prepared() is nested in it
        parts = [f"unlearning {ph['unlearning']:.2f}s", f"signal passes {ph['signals_of']:.2f}s",
                 f"metrics {ph['evaluate']:.2f}s", f"data+encodings {ph['prepared']:.2f}s",
                 f"original from cache {ph['original'] - ph['prepared']:.2f}s"]
        rest = total - ph["unlearning"] - ph["signals_of"] - ph["evaluate"] - ph["original"]
        print(f"harness repeat {i}: whole run {total:.2f}s = " + " + ".join(parts) + f" + the rest {rest:.2f}s")
    print(f"evaluation / its forward passes: {min(p['signals_of'] + p['evaluate'] for p in phases) / min(p['signals_of'] for p in phases):.2f}")
    report_paired(times, cpu, "harness", "bare", "whole cell harness/bare ratio (median of paired repeats)")


if __name__ == "__main__":
    main()
