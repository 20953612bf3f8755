"""Per-sample signals of a model on a split, from one batched inference pass, cached.

Every metric is computed from signals, never from a second pass. The cache key is the hash of the
model's weights and the split's sample ids, so the original model's signals are computed once per
sweep however many cells read them.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch

from .contracts import Built, Task
from .data import Rows, to_device

SIGNALS = ("loss", "score", "p_true", "entropy", "margin")
Signals = dict[str, np.ndarray]


def weights_hash(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:20]


def rows_hash(rows: Rows) -> str:
    return hashlib.sha256(rows["idx"].numpy().tobytes() + rows["labels"].numpy().tobytes()).hexdigest()[:20]


@torch.no_grad()
def compute_signals(task: Task, model: torch.nn.Module, rows: Rows, built: Built, *, batch_size: int = 256,
                    device: torch.device | str = "cpu") -> Signals:
    """One forward pass over ``rows`` in eval mode; returns each signal as an array aligned with rows."""
    was_training = model.training
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for batch in rows.batches(batch_size):
        batch = task.prepare_batch(to_device(batch, device), built)
        for name, value in task.signals(model, batch).items():
            parts.setdefault(name, []).append(value.detach().float().cpu())
    model.train(was_training)
    out = {name: torch.cat(values).numpy() for name, values in parts.items()}
    out["idx"] = rows["idx"].numpy()
    return out


class SignalCache:
    """In-memory and on-disk (``.npz`` in the run folder) cache of signals by (weights, split)."""

    def __init__(self, folder=None):
        self.folder = folder
        self.memory: dict[tuple[str, str], Signals] = {}
        self.passes = 0  # forward passes actually run: tests assert one per (weights, split)

    def get(self, task: Task, model, rows: Rows, built: Built, *, device="cpu", model_hash: str | None = None) -> Signals:
        key = (model_hash or weights_hash(model), rows_hash(rows))
        if key in self.memory:
            return self.memory[key]
        path = self.folder / f"{key[0]}-{key[1]}.npz" if self.folder else None
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                sig = {k: data[k] for k in data.files}
        else:
            sig = compute_signals(task, model, rows, built, device=device)
            self.passes += 1
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npz")
                np.savez(tmp, **sig)
                tmp.replace(path)
        self.memory[key] = sig
        return sig
