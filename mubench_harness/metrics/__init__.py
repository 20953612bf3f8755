"""The metric contract. A metric reads per-sample signals (never runs a model) and returns values.

Built-in metrics are registered by :mod:`.builtin` exactly like a plugin's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Signals = dict[str, np.ndarray]


@dataclass
class Evaluation:
    """Everything a metric may read about one cell.

    ``signals[split]`` are the unlearned model's, ``original[split]`` the original's and
    ``retrain[split]`` the retrained model's (``None`` when the benchmark has no retrain). Splits:
    ``test``, ``forget`` (Df), ``retain`` (a seeded fixed-size sample of Dr), ``ood`` when present.
    """

    signals: dict[str, Signals]
    original: dict[str, Signals]
    retrain: dict[str, Signals] | None = None
    chance: float = 0.0
    kind: str = "classification"
    seed: int = 0
    seconds: float = 0.0
    flops: float = 0.0
    retrain_seconds: float | None = None
    retrain_flops: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class Metric:
    """``compute`` returns ``{name: value}``; ``None`` means not applicable (reported as n/a)."""

    def __init__(self, args):
        self.args = args

    def compute(self, ev: Evaluation) -> dict[str, float | None]:
        raise NotImplementedError
