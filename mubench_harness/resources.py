"""Resources of a run that are not about one cell: the device and accelerator, checkpoints, and
fitting a model with a task's recipe through the one loop."""
from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import torch

from .config import DeviceUnavailable  # noqa: F401 - raised here and by distributed.engine
from .contracts import Built, Task, seeded
from .data import Rows
from .training import Meter, OptimizerConfig, Phase, make_optimizer, run_loop


def synchronize(device: torch.device) -> None:
    """Wait for queued device work before reading the clock."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_device(bench, base_dir: Path = Path(".")) -> tuple[torch.device, Any]:
    """The device and, for a distributed backend or several launched ranks, the ``accelerate.Accelerator``
    built from the file (:func:`mubench_harness.distributed.engine.build_accelerator`)."""
    from .distributed.engine import build_accelerator

    if bench.device == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable("device: cuda was requested but no CUDA device is available")
    use_cuda = bench.device == "cuda" or (bench.device == "auto" and torch.cuda.is_available())
    accelerator = build_accelerator(bench, use_cuda=use_cuda, base_dir=base_dir)
    if accelerator is None:
        return torch.device("cuda" if use_cuda else "cpu"), None
    return accelerator.device, accelerator


def fit_recipe(task: Task, built: Built, model: torch.nn.Module, rows: Rows, *, seed: int, device: torch.device,
               accelerator=None, epochs: int | None = None, recipe=None) -> tuple[torch.nn.Module, float, float]:
    """Train ``model`` on ``rows`` with ``recipe`` (default: the task class's own; the runner passes the
    one :func:`~mubench_harness.training_recipes.training_recipe` resolves) — the original's training, or
    one epoch of it for a given original's budget. Returns the model (unwrapped), seconds and FLOs."""
    from .distributed.engine import consolidated

    r = recipe or task.recipe
    model = model.to(device).train()
    like = copy.deepcopy(model) if _sharded(accelerator) else model  # a plain shell for the gathered weights
    opt = make_optimizer(model.parameters(), OptimizerConfig(name=r.optimizer, lr=r.lr, weight_decay=r.weight_decay, momentum=r.momentum))
    if accelerator is not None:
        model, opt = accelerator.prepare(model, opt)
    phase = Phase("train", rows, r.batch_size, lambda m, b: task.per_sample_loss(m, task.prepare_batch(b, built)).mean())
    meter = Meter()
    synchronize(device)
    start = time.perf_counter()
    with seeded(seed):  # dropout, random patch orders, diffusion noise: the same original on every run
        run_loop(model, lambda e: [phase], epochs=epochs or r.epochs, optimizer=opt, seed=seed, accelerator=accelerator,
                 meter=meter, device=device)
    synchronize(device)
    seconds = time.perf_counter() - start
    if accelerator is None:
        return model, seconds, meter.flops
    return consolidated(model, like, accelerator), seconds, _all_ranks(meter.flops)


def _sharded(accelerator) -> bool:
    from .distributed.engine import is_sharded

    return is_sharded(accelerator)


def _all_ranks(flops: float) -> float:
    """FLOs of every rank together (each counts its own share of the batches)."""
    from .distributed.ranks import sum_all

    return sum_all([flops])[0]


def local_checkpoint(checkpoint: str, base_dir: Path) -> Path | None:
    """The safetensors file a checkpoint names on disk (a file, or a folder's ``model.safetensors``),
    relative paths from the benchmark file's folder; ``None``: it is a hub repository id."""
    local = Path(checkpoint).expanduser()
    local = local if local.is_absolute() else base_dir / local
    if local.is_dir():
        return local / "model.safetensors"
    return local if local.is_file() else None


def check_checkpoint(file: Path) -> None:
    """Raise ``ValueError`` unless ``file`` is a readable safetensors file (its header is read, not its
    tensors): a pickle, a truncated download or another format is refused before anything runs."""
    from safetensors import safe_open

    if not file.is_file():
        raise ValueError(f"{file} does not exist")
    try:
        with safe_open(str(file), framework="pt") as f:
            keys = list(f.keys())
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error type (and OSError)
        raise ValueError(f"{file} is not a readable safetensors file ({' '.join(str(exc).split())})") from None
    if not keys:
        raise ValueError(f"{file} holds no tensors")


def load_checkpoint(model: torch.nn.Module, checkpoint: str, base_dir: Path) -> None:
    """Load an already-trained original: a local safetensors file or folder, or a hub repository id."""
    from safetensors.torch import load_model

    local = local_checkpoint(checkpoint, base_dir)
    if local is None:
        from huggingface_hub import hf_hub_download

        local = Path(hf_hub_download(checkpoint, "model.safetensors"))
    check_checkpoint(local)
    missing, unexpected = load_model(model, str(local), strict=False, device="cpu")
    if missing or unexpected:
        raise ValueError(f"{local}: checkpoint does not fit the model (missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]})")


def load_verified_original(model: torch.nn.Module, path: Path, meta_path: Path) -> tuple[torch.nn.Module, dict] | None:
    """A cached original: a copy of ``model`` with the weights of ``path`` and the metadata recorded at
    caching, when those weights still hash to the ``weights`` recorded then; otherwise ``None`` (after
    a warning) and the caller trains it again: a file changed on disk (bit rot, an edit, another tool)
    would silently change every number built on it. ``model`` itself is never modified (a retraining
    starts from it). Signals are keyed by the weights hash, so a verified original finds only its own."""
    import json
    import sys

    from safetensors.torch import load_model

    from .signals import weights_hash

    try:
        meta = json.loads(meta_path.read_text())
        recorded = meta.get("weights")
        loaded = copy.deepcopy(model)
        load_model(loaded, str(path), device="cpu")
        actual = weights_hash(loaded)
    except Exception as exc:  # noqa: BLE001 - an unreadable cache entry is recomputed, never trusted
        why = f"unreadable: {type(exc).__name__}: {' '.join(str(exc).split())}"
    else:
        if recorded is not None and actual == recorded:
            return loaded, meta
        why = (f"weights hash {actual} != {recorded} recorded at caching" if recorded is not None
               else "no weights hash was recorded")
    print(f"warning: {path}: cached original not used ({why}); training it again", file=sys.stderr)
    return None
