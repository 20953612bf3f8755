"""The cost of unlearning: wall-clock time and counted FLOs, each also relative to retraining."""
from __future__ import annotations

from . import Evaluation, Metric


def _ratio(ev: Evaluation, name: str, value: float | None, reference: float | None) -> float | None:
    if value is None:
        return ev.not_applicable(name, "n/a (no unlearning cost: reference model)")
    if not reference:
        return ev.not_applicable(name, "n/a (no retrain in this benchmark)")
    return value / reference


class Time(Metric):
    """``time/seconds``: wall clock of the method alone (mask, teacher and reference computations
    included, evaluation excluded; the runner synchronises the device before reading the clock);
    ``time/seconds_vs_retrain`` = seconds / retrain seconds."""

    def compute(self, ev: Evaluation):
        seconds = ev.seconds
        if seconds is None:
            ev.not_applicable("time/seconds", "n/a (no unlearning cost: reference model)")
        return {"time/seconds": seconds, "time/seconds_vs_retrain": _ratio(ev, "time/seconds_vs_retrain", seconds, ev.retrain_seconds)}


class Flos(Metric):
    """``flos/total``: floating-point operations counted during unlearning (teacher and reference passes
    included); ``flos/vs_retrain`` = FLOs / retrain FLOs."""

    def compute(self, ev: Evaluation):
        flops = ev.flops
        if flops is None:
            ev.not_applicable("flos/total", "n/a (no unlearning cost: reference model)")
        return {"flos/total": flops, "flos/vs_retrain": _ratio(ev, "flos/vs_retrain", flops, ev.retrain_flops)}
