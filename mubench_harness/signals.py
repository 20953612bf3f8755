"""Per-sample signals of a model on a split, from one batched inference pass, cached.

Every metric is computed from signals, never from a second pass. A :class:`SignalCache` lives for a
sweep (its folder in the run folder): the key is the hash of the model's weights, of the split's
rows and of the task's settings, so the original model's signals are computed once per sweep however many cells read them, and a
rerun reads them back from disk (``.npz``, loaded with ``allow_pickle=False``).

Signals (DESIGN.md §5), each an array aligned with the rows, in eval mode without augmentation:
``loss``, ``score`` (in [0, 1]), ``p_true`` (probability of the true label), ``entropy``, ``margin``,
plus ``idx`` (the rows' ids, so metrics can check that two models were evaluated on the same rows).
They come from the task's ``signals`` primitive, which already returns one value per sample: for
generation tasks these are token-averaged (loss = mean target-token NLL, p_true = exp(−loss) = exp of
the mean token log-probability, entropy and margin averaged over the target tokens), so metrics treat
every task alike.
"""
from __future__ import annotations

import hashlib
import sys
import uuid
import weakref
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from .contracts import Built, Task, seeded
from .data import Rows, iter_batches, to_device

SIGNALS = ("loss", "score", "p_true", "entropy", "margin")
#: bump when the definition of a signal changes: cached files of an older version are not read
VERSION = 1
Signals = dict[str, np.ndarray]


def weights_hash(model: torch.nn.Module) -> str:
    """Content hash of every parameter and buffer (names included)."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tensor.dtype).encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:20]


# hashing a large split is not free: remember the hash per Rows object (Rows are never mutated in place)
_ROWS_HASHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rows_hash(rows: Rows) -> str:
    """Content hash of every column of ``rows`` (inputs too, so test and OOD with equal ids and labels,
    or Df before and after a label corruption, never share an entry)."""
    cached = _ROWS_HASHES.get(rows)
    if cached is None:
        _ROWS_HASHES[rows] = cached = rows.digest()
    return cached


@torch.no_grad()
def compute_signals(task: Task, model: torch.nn.Module, rows: Rows, built: Built, *, batch_size: int = 256,
                    device: torch.device | str = "cpu") -> Signals:
    """One forward pass over ``rows`` in eval mode; returns each signal as an array aligned with rows."""
    was_training = model.training
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    try:
        # some models draw from torch's RNG even in eval mode (ViLT samples and orders image patches):
        # a fixed seed makes a model's signals the same whatever ran before in the process
        with seeded(0):
            for batch in iter_batches(rows, batch_size, device=device):
                batch = task.prepare_batch(to_device(batch, device), built)
                n = len(batch["labels"])
                for name, value in task.signals(model, batch).items():
                    if value.shape != (n,):
                        raise ValueError(f"{type(task).__name__}.signals returned {name!r} of shape {tuple(value.shape)}, "
                                         f"expected one value per sample ({n},)")
                    parts.setdefault(name, []).append(value.detach().float().cpu())
    finally:
        model.train(was_training)
    missing = [s for s in SIGNALS if s not in parts] if len(rows) else []
    if missing:
        raise ValueError(f"{type(task).__name__}.signals is missing {missing}")
    out = {name: torch.cat(values).numpy() for name, values in parts.items()}
    if not len(rows):
        out = {name: np.zeros(0, dtype=np.float32) for name in SIGNALS}
    out["idx"] = rows["idx"].numpy().copy()
    return out


def _read(path: Path, idx: np.ndarray | None = None) -> Signals | None:
    """Signals from a cache file, or ``None`` when it is unreadable, of another signal version, or does
    not match the rows (a half-written or foreign file is recomputed, never trusted)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            sig = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # BadZipFile: bytes changed on disk (CRC)
        print(f"warning: {path}: cached signals not used ({type(exc).__name__}: {exc}); computing them again",
              file=sys.stderr)
        return None
    version = sig.pop("_version", None)
    if version is None or int(version) != VERSION or any(s not in sig for s in SIGNALS):
        return None
    if idx is not None and not np.array_equal(sig.get("idx"), idx):
        return None
    return sig


def task_hash(task: Task) -> str:
    """Hash of the task's class and arguments: signals depend on them beyond weights and rows
    (decoding and sampling settings, the judge, the CLIP model), so a changed setting never reads
    signals computed under another."""
    args = getattr(task, "args", None)
    settings = args.model_dump_json() if hasattr(args, "model_dump_json") else repr(args)
    return hashlib.sha256(f"{type(task).__module__}.{type(task).__qualname__}:{settings}".encode()).hexdigest()[:12]


class SignalCache:
    """In-memory and on-disk (``.npz`` in ``folder``) cache of signals by (weights, split).

    ``passes`` counts the inference passes actually run (one per (weights, split) for the cache's
    lifetime, zero for entries found on disk); ``hits`` counts answers served from memory or disk.
    """

    def __init__(self, folder: str | Path | None = None, *, batch_size: int = 256):
        self.folder = Path(folder) if folder is not None else None
        self.batch_size = batch_size
        self.memory: dict[tuple[str, str, str], Signals] = {}
        self.passes = 0
        self.hits = 0

    def key(self, task: Task, model: torch.nn.Module, rows: Rows, model_hash: str | None = None) -> tuple[str, str, str]:
        return (model_hash or weights_hash(model), rows_hash(rows), task_hash(task))

    def path(self, key: tuple[str, str, str]) -> Path | None:
        return self.folder / f"{'-'.join(key)}.npz" if self.folder else None

    def lookup(self, task: Task, model_hash: str, rows: Rows) -> Signals | None:
        """Signals already computed by ``task`` for weights ``model_hash`` on ``rows`` (memory, then
        disk), without the model: how a runner finds a retrained model's signals from an earlier run."""
        key = (model_hash, rows_hash(rows), task_hash(task))
        if key in self.memory:
            self.hits += 1
            return self.memory[key]
        path = self.path(key)
        sig = _read(path, rows["idx"].numpy()) if path is not None and path.exists() else None
        if sig is not None:
            self.hits += 1
            self._remember(key, sig)
        return sig

    def get(self, task: Task, model, rows: Rows, built: Built, *, device="cpu", model_hash: str | None = None) -> Signals:
        """The signals of ``model`` on ``rows``; ``model_hash`` skips re-hashing weights the caller knows."""
        key = self.key(task, model, rows, model_hash)
        sig = self.lookup(task, key[0], rows)
        if sig is not None:
            return sig
        sig = compute_signals(task, model, rows, built, batch_size=self.batch_size, device=device)
        self.passes += 1
        path = self.path(key)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # a name of its own: two processes (executor workers) may compute the same signals at once
            tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex[:8]}.tmp.npz")
            np.savez(tmp, _version=np.array(VERSION), **sig)
            tmp.replace(path)  # atomic: a crashed write never leaves a truncated cache file
        return self._remember(key, sig)

    def _remember(self, key: tuple[str, str, str], sig: Signals) -> Signals:
        for value in sig.values():
            value.setflags(write=False)  # shared by every reader: no metric may modify it
        self.memory[key] = sig
        return sig

    def splits(self, task: Task, model, splits: Mapping[str, Rows], built: Built, *, device="cpu",
               model_hash: str | None = None) -> dict[str, Signals]:
        """Signals of one model on several named splits (the weights hashed once)."""
        model_hash = model_hash or weights_hash(model)
        return {name: self.get(task, model, rows, built, device=device, model_hash=model_hash)
                for name, rows in splits.items()}


@contextmanager
def count_forward(model: torch.nn.Module) -> Iterator[list[int]]:
    """Count calls of ``model``'s forward inside the block: ``with count_forward(m) as n: ...; n[0]``."""
    calls = [0]

    def hook(module, args, output):
        calls[0] += 1

    handle = model.register_forward_hook(hook)
    try:
        yield calls
    finally:
        handle.remove()
