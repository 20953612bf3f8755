"""The metric contract. A metric reads per-sample signals and returns values; only the robustness
attacks (:mod:`.robustness`) run a copy of the model, through :class:`ModelAccess`.

Built-in metrics are registered by :mod:`.builtin` exactly like a plugin's. One module per family:
:mod:`.performance`, :mod:`.cost`, :mod:`.mia` (MIA-efficacy, loss attack, retain-set privacy),
:mod:`.gap` (knowledge gap), :mod:`.rmia`, :mod:`.overall`. Shared statistics live in :mod:`.common`.

Value names are ``family/what`` (``loss_attack/auc``). ``None`` means not applicable; a metric that
returns ``None`` records why with :meth:`Evaluation.not_applicable`, and the report prints the reason.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Signals = dict[str, np.ndarray]

#: splits a runner fills; ``retain`` is a seeded sample of Dr of size min(|Dr|, |test|)
SPLITS = ("test", "forget", "retain", "ood")


@dataclass
class ModelAccess:
    """The models of one cell and what running them needs. Metrics read signals; only attacks that must
    change the model and measure it again (quantisation, relearning) use this, always on a copy.

    ``splits`` are the encoded rows behind ``signals`` (same splits, same order); ``model`` is the model
    evaluated, ``original`` the frozen original (never modified)."""

    model: Any
    original: Any
    task: Any
    built: Any
    splits: dict[str, Any]
    device: Any = "cpu"


@dataclass
class Evaluation:
    """Everything a metric may read about one cell.

    ``signals[split]`` are the unlearned model's, ``original[split]`` the original's and
    ``retrain[split]`` the retrained model's (``None`` when the benchmark has no retrain). Splits:
    ``test``, ``forget`` (Df), ``retain`` (a seeded fixed-size sample of Dr), ``ood`` when present.
    Every signal dict holds arrays ``loss``, ``score``, ``p_true``, ``entropy``, ``margin`` and ``idx``
    (the row ids), aligned across models: the same split has the same rows in the same order.

    ``out_models`` are further OUT reference models for RMIA (e.g. retrains at other seeds of the same
    cell); the runner may leave it empty, RMIA then uses ``retrain`` alone. ``unlearner`` is the
    method's registered name (the overall score's test gate is looser for NegGrad).

    ``chance`` is the majority-class rate of the training set; ``num_classes`` (K) gives the paper's
    random level 1/K (``None``: unknown, or generation). ``not_members`` says why Df and Dr are *not*
    training data of the original (an original taken as given that never saw this task's training
    set): membership attacks and the knowledge gap then have nothing to measure and are n/a with it.
    """

    signals: dict[str, Signals]
    original: dict[str, Signals]
    retrain: dict[str, Signals] | None = None
    chance: float = 0.0
    kind: str = "classification"
    seed: int = 0
    seconds: float | None = 0.0
    flops: float | None = 0.0
    retrain_seconds: float | None = None
    retrain_flops: float | None = None
    unlearner: str = ""
    num_classes: int | None = None
    not_members: str | None = None
    out_models: list[dict[str, Signals]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    #: value name -> why it is n/a; filled by metrics, stored and printed by the runner/report
    na_reasons: dict[str, str] = field(default_factory=dict)
    #: value name -> how it was computed where a definition is a choice (the overall score's chance level
    #: and gates); the runner stores it in the cell's notes
    definitions: dict[str, str] = field(default_factory=dict)
    #: the evaluated model itself, for the few metrics that must run it (robustness attacks:
    #: :mod:`.robustness`); ``None`` where only signals exist (a metric then reports n/a)
    models: ModelAccess | None = None

    @property
    def generative(self) -> bool:
        return self.kind != "classification"

    @property
    def random_chance(self) -> float:
        """The paper's random level on Df: 1/K; the majority rate where K is unknown."""
        return 1.0 / self.num_classes if self.num_classes else self.chance

    def not_applicable(self, name: str, reason: str) -> None:
        """Record why ``name`` has no value and return ``None`` (the value to report)."""
        self.na_reasons[name] = reason
        return None

    def membership_na(self, names) -> dict[str, None] | None:
        """``{name: None}`` for every value in ``names`` (each with its reason) when Df/Dr are not
        members of the original's training data; ``None`` when membership can be measured."""
        if self.not_members is None:
            return None
        return {name: self.not_applicable(name, f"n/a ({self.not_members})") for name in names}

    def as_model(self, which: str) -> Evaluation:
        """The same cell evaluated as if ``which`` (``"original"`` or ``"retrain"``) were the unlearned
        model: how a runner computes the reference rows every report prints, with the same metrics.

        The original has no unlearning cost (time/FLOs n/a); the retrain's cost is its own.
        """
        if which == "original":
            models = None if self.models is None else dataclasses.replace(self.models, model=self.models.original)
            return dataclasses.replace(self, signals=self.original, seconds=None, flops=None, unlearner="original",
                                       na_reasons={}, definitions={}, models=models)
        if which == "retrain":
            if self.retrain is None:
                raise ValueError("this cell has no retrained model to evaluate as a reference")
            return dataclasses.replace(self, signals=self.retrain, seconds=self.retrain_seconds,
                                       flops=self.retrain_flops, unlearner="retrain", na_reasons={}, definitions={},
                                       models=None)  # the retrained model is no longer in memory
        raise ValueError(f"reference model must be 'original' or 'retrain', not {which!r}")


class Metric:
    """``compute`` returns ``{name: value}``; ``None`` means not applicable (reported as n/a).

    The formula a report prints and the value names a metric returns are declared on its
    :class:`~mubench_harness.specs.MetricSpec` (``formula``, ``values``), readable without importing it.
    """

    def __init__(self, args):
        self.args = args

    def compute(self, ev: Evaluation) -> dict[str, float | None]:
        raise NotImplementedError
