"""What the performance scripts share: their command-line set-up, a bare PyTorch training loop and
forward pass written by hand, and the A/B timing that reports the ratio of the fastest repeats.

Other processes on a shared machine only ever add time, so the fastest repeat of each side is the least
disturbed estimate of its cost (timeit's reasoning); the two sides alternate (A/B, B/A, ...) in one
process so that load drifts hit both alike. On a machine whose load comes and goes within a repeat, the
fastest repeats of the two sides may come from different load levels; :func:`report_paired` therefore
takes the ratio within each repeat (its two sides ran back to back) and reports the median of those
and their spread, and beside it the same ratio of process CPU time, which other processes barely move.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F


def parser(doc: str, *, repeats: int = 3) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable on a shared machine)")
    return p


def set_threads(threads: int) -> str:
    """Use ``threads`` torch threads; returns a line describing the machine and its load."""
    torch.set_num_threads(threads)
    load = os.getloadavg()
    return (f"machine: {os.cpu_count()} cores, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} (1/5/15 min), "
            f"torch threads {threads}")


def bare_train(model: torch.nn.Module, batches: Iterable[tuple[dict, torch.Tensor]], optimizer: torch.optim.Optimizer) -> None:
    """One hand-written pass: forward, cross-entropy, backward, step per (inputs, labels) batch."""
    model.train()
    for inputs, labels in batches:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(**inputs).logits, labels).backward()
        optimizer.step()


@torch.no_grad()
def bare_forward(model: torch.nn.Module, batches: Iterable[dict]) -> None:
    """One hand-written inference pass (eval mode) over ``batches`` of model inputs."""
    model.eval()
    for inputs in batches:
        model(**inputs)


def alternate(sides: dict[str, Callable[[], object]], repeats: int,
              cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Time each side ``repeats`` times, alternating their order every repeat; prints each repeat.
    Returns wall times; ``cpu``, when given, receives each side's process CPU times alike. A garbage
    collection before each side keeps one side's leftovers from being collected on the other's clock."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            sides[name]()
            times[name].append(time.perf_counter() - start)
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - start_cpu)
        print(f"repeat {r}: " + "  ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items())
              + (f"  (CPU {'  '.join(f'{n} {c[-1]:.2f}s' for n, c in cpu.items())})" if cpu is not None else ""),
              flush=True)
    return times


def report_ratio(times: dict[str, list[float]], a: str, b: str, label: str) -> float:
    """Print the medians, then the ratio of the fastest repeats (the figure reported) as the last line."""
    ma, mb = statistics.median(times[a]), statistics.median(times[b])
    print(f"median {a} {ma:.2f}s, median {b} {mb:.2f}s (ratio of medians {ma / mb:.3f})")
    ratio = min(times[a]) / min(times[b])
    print(f"{label}: {ratio:.3f}")
    return ratio


def report_paired(times: dict[str, list[float]], cpu: dict[str, list[float]], a: str, b: str, label: str) -> float:
    """Print, for ``a``/``b``: each repeat's wall ratio (its two sides ran back to back, under one load),
    their median and spread, the ratio of the fastest repeats and of the medians, and the same paired
    ratio of CPU time; then, last, the median paired wall ratio (returned) and CPU-time ratio."""
    paired = [x / y for x, y in zip(times[a], times[b])]
    paired_cpu = [x / y for x, y in zip(cpu[a], cpu[b])]
    print(f"paired {a}/{b} wall ratios: " + ", ".join(f"{r:.3f}" for r in paired))
    print(f"  median {statistics.median(paired):.3f}, spread {min(paired):.3f}-{max(paired):.3f} over {len(paired)} repeats; "
          f"fastest/fastest {min(times[a]) / min(times[b]):.3f}; median/median "
          f"{statistics.median(times[a]) / statistics.median(times[b]):.3f}")
    print(f"paired {a}/{b} CPU-time ratios: " + ", ".join(f"{r:.3f}" for r in paired_cpu)
          + f" (median {statistics.median(paired_cpu):.3f})")
    ratio = statistics.median(paired)
    # both figures on the last line: the wall ratio is the cost a user waits for; on a machine whose load
    # swings within a repeat its pairs still scatter (0.6-2.0 seen at load 5), while process CPU time,
    # which other processes barely move, says what the harness's own work costs
    print(f"{label}: {ratio:.3f} (wall), {statistics.median(paired_cpu):.3f} (CPU time)")
    return ratio
