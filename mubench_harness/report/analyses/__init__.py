"""The paper's analyses as report sections (``mubench report DIR --analysis NAME``).

Each section is a table computed from a run folder's cells plus a *finding*: one of the paper's
qualitative claims, checked against these numbers by a rule printed next to it, so a reader sees
whether this run supports the claim, contradicts it, or cannot test it (a method missing). Each
analysis is one module here, listed in :data:`ANALYSES` with its renderer and, where it has one, its
plot writer; the CLI and the leaderboard read that table and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..load import ReportData
from . import capacity, curriculum, peft, robustness, scaling, transfer


@dataclass(frozen=True)
class Analysis:
    name: str
    help: str  # one line for ``--help``
    render: Callable[..., str]  # (data, tolerance, tablefmt) -> the section's text
    plots: Callable[..., list[Path]] | None = None  # (data, out, tolerance) -> files written


ANALYSES: dict[str, Analysis] = {a.name: a for a in (
    Analysis("capacity", "deletion capacity per method, with the paper's finding checked",
             capacity.render_capacity, capacity.write_capacity_plots),
    Analysis("robustness", "the Df score the quantization and relearning attacks give back, against retraining's",
             robustness.render_robustness, robustness.write_robustness_plots),
    Analysis("transfer", "original vs unlearned score on each task's shifted (OOD) test set, with the paper's finding checked",
             transfer.render_transfer, transfer.write_transfer_plots),
    Analysis("scaling", "Df and test scores vs counted FLOs and model scale, cost growth vs ratio, with the paper's finding checked",
             scaling.render_scaling, scaling.write_scaling_plots),
    Analysis("peft", "Df and test scores vs LoRA's trainable fraction per method, with the paper's 50 % threshold checked",
             peft.render_peft, peft.write_peft_plots),
    Analysis("curriculum", "Df and test scores with SuperLoss vs without per method (the paper's gap table), its finding checked",
             curriculum.render_curriculum, curriculum.write_curriculum_plots),
)}


def _analysis(name: str) -> Analysis:
    try:
        return ANALYSES[name]
    except KeyError:
        raise ValueError(f"unknown analysis {name!r}; choose one of {', '.join(ANALYSES)}") from None


def _check_tolerance(tolerance: float) -> None:
    # every analysis reads it as an absolute difference of scores in [0, 1]: checked here, once for all
    if not 0 <= tolerance < 1:
        raise ValueError(f"--tolerance must lie in [0, 1) (an absolute score difference), not {tolerance}")


def render_analysis(data: ReportData, name: str, *, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    _check_tolerance(tolerance)
    return _analysis(name).render(data, tolerance, tablefmt)


def write_analysis_plots(data: ReportData, name: str, out, *, tolerance: float = 0.05) -> list[Path]:
    """The analysis's figures in ``out``; an analysis without plots writes none."""
    _check_tolerance(tolerance)
    plots = _analysis(name).plots
    return plots(data, out, tolerance) if plots else []


# what tests and callers import by name
capacity_rows, render_capacity = capacity.capacity_rows, capacity.render_capacity
