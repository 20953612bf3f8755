"""The DeepSpeed JSON of a benchmark file: read and checked at validation (no torch imported).

The user's file is passed to DeepSpeed unchanged, except three keys the harness fills *only when the file
leaves them out* (or says ``"auto"``, which a trainer fills from its own settings):
``train_micro_batch_size_per_gpu`` (DeepSpeed requires it; the harness's own loop chooses batches),
``gradient_clipping`` (0: DeepSpeed clips gradients to norm 1.0 unless told otherwise, and Accelerate fills
``"auto"`` with 1.0, while no method's or task's recipe clips: with that default a ZeRO run matched one
process to 1e-8 until the first step whose gradient norm passed 1, then drifted, 0.25 after the toy
original's 280 Adam steps) and ``zero_allow_untested_optimizer`` (the loop hands DeepSpeed a torch
optimizer, SGD included, built from the method's recipe).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def check_deepspeed_config(path: Path, zero_stage: int) -> dict[str, Any]:
    """The file's JSON object; ``ValueError`` (one line) when it is missing, not JSON, or its ZeRO stage
    contradicts ``zero_stage``."""
    if not path.is_file():
        raise ValueError(f"DeepSpeed config {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a JSON file ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a JSON {type(data).__name__}, not an object")
    stage = data.get("zero_optimization", {}).get("stage", 0) if isinstance(data.get("zero_optimization"), dict) else None
    if stage is None:
        raise ValueError(f"{path}: zero_optimization is not an object")
    if zero_stage and stage != zero_stage:
        raise ValueError(f"{path} sets ZeRO stage {stage} but zero_stage is {zero_stage}")
    return data


def deepspeed_config(zero_stage: int, path: Path | None, mixed_precision: str) -> dict[str, Any]:
    """The DeepSpeed config of a run: the user's file (filled as the module says), or ZeRO ``zero_stage``."""
    if path is not None:
        data = check_deepspeed_config(path, zero_stage)
    else:
        data = {"zero_optimization": {"stage": zero_stage}}
        if mixed_precision in ("bf16", "fp16"):
            data[mixed_precision] = {"enabled": True}
    if data.get("train_micro_batch_size_per_gpu", "auto") == "auto":  # "auto": the trainer fills it in
        data["train_micro_batch_size_per_gpu"] = 1
    if data.get("gradient_clipping", "auto") == "auto":
        data["gradient_clipping"] = 0.0
    data.setdefault("zero_allow_untested_optimizer", True)
    return data
