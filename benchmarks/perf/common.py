"""What the performance scripts share: their command-line set-up, a bare PyTorch training loop and
forward pass written by hand, and the A/B timing that reports the ratio of the fastest repeats.

Other processes on a shared machine only ever add time, so the fastest repeat of each side is the least
disturbed estimate of its cost (timeit's reasoning); the two sides alternate (A/B, B/A, ...) in one
process so that load drifts hit both alike.
"""
from __future__ import annotations

import argparse
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


def alternate(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Time each side ``repeats`` times, alternating their order every repeat; prints each repeat."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - start)
        print(f"repeat {r}: " + "  ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()), flush=True)
    return times


def report_ratio(times: dict[str, list[float]], a: str, b: str, label: str) -> float:
    """Print the medians, then the ratio of the fastest repeats (the figure reported) as the last line."""
    ma, mb = statistics.median(times[a]), statistics.median(times[b])
    print(f"median {a} {ma:.2f}s, median {b} {mb:.2f}s (ratio of medians {ma / mb:.3f})")
    ratio = min(times[a]) / min(times[b])
    print(f"{label}: {ratio:.3f}")
    return ratio
