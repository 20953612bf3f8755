"""Samples per second of each task's input pipeline alone against its tiny model's training step.

For every task of ``benchmarks/mini.yaml`` (its mini source and tiny model), on its encoded training rows:

- **input**: what the loop does before the model sees a batch — gather the shuffled batch's rows
  (:func:`mubench_harness.data.iter_batches`) and the task's ``prepare_batch`` (resizing images, frames,
  trimming padding) — in process, and with ``--workers N`` gathering through the DataLoader path;
- **step**: the same batches through the whole training step (input, ``per_sample_loss``, backward,
  Adam step).

The input share of a step says how much a GPU would wait for a CPU-built batch: on a GPU the step's
model part shrinks by one to two orders of magnitude while the input stays where it is.

    OMP_NUM_THREADS=1 python benchmarks/perf/input.py [--tasks cifar100 imdb] [--batches 20] [--workers 2]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import parser, set_threads  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> None:
    p = parser(__doc__, repeats=2)
    p.add_argument("--tasks", nargs="*", default=None, help="task names of mini.yaml (default: all)")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    ns = p.parse_args(argv)
    print(set_threads(ns.threads))

    from mubench_harness.config import validate
    from mubench_harness.data import LOADING, BatchLoading, iter_batches
    from mubench_harness.execution import Runtime

    v = validate(ROOT / "benchmarks" / "mini.yaml")
    runtime = Runtime(v, Path(tempfile.mkdtemp(prefix="mubench-perf-input-")), None, progress=False)
    print(f"{'task':14s} {'model':16s} {'input/s':>9s} {'input/s (DataLoader)':>21s} {'step/s':>8s} {'input share':>11s}")
    for entry in v.bench.tasks:
        if ns.tasks and entry.name not in ns.tasks:
            continue
        model_name, scale = entry.models[0].name, entry.models[0].scales[0]
        prep = runtime.prepared(entry.name, model_name, scale)
        task, built = prep.task, prep.built
        model = prep.family.build(task, scale, init="pretrained", seed=0).model.train()
        rows = prep.train.select(range(min(len(prep.train), ns.batches * ns.batch_size)))
        opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=1e-4)

        def inputs(loading=None):
            token = LOADING.set(loading)
            try:
                g = torch.Generator().manual_seed(0)
                for batch in iter_batches(rows, ns.batch_size, shuffle=True, generator=g):
                    task.prepare_batch(batch, built)
            finally:
                LOADING.reset(token)

        def steps():
            g = torch.Generator().manual_seed(0)
            for batch in iter_batches(rows, ns.batch_size, shuffle=True, generator=g):
                opt.zero_grad(set_to_none=True)
                task.per_sample_loss(model, task.prepare_batch(batch, built)).mean().backward()
                opt.step()

        def best(fn, *a) -> float:
            times = []
            for _ in range(ns.repeats):
                start = time.perf_counter()
                fn(*a)
                times.append(time.perf_counter() - start)
            return len(rows) / min(times)

        seq, loader, step = best(inputs), best(inputs, BatchLoading(workers=ns.workers)), best(steps)
        print(f"{entry.name:14s} {model_name + ':' + scale:16s} {seq:9.0f} {loader:21.0f} {step:8.0f} {step / seq:11.1%}",
              flush=True)


if __name__ == "__main__":
    main()
