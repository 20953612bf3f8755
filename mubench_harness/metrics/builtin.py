"""Registration of the built-in metrics (the same hook an external metric plugin implements)."""
from __future__ import annotations

from ..hookspecs import hookimpl
from ..specs import MetricSpec


@hookimpl
def mubench_metrics():
    yield MetricSpec(
        name="performance",
        factory="mubench_harness.metrics.performance:Performance",
        summary="Mean score on test, Df, Dr sample and OOD; the task's chance level beside Df",
        direction="info",
    )
    yield MetricSpec(
        name="time",
        factory="mubench_harness.metrics.performance:Cost",
        summary="Unlearning wall-clock seconds and FLOs, and both relative to retraining",
        direction="lower",
    )
