"""Pieces every analysis section shares: the test-score key, how a summary over seeds is printed, and
how a figure is written (PNG and SVG, as ``report --plots`` writes them)."""
from __future__ import annotations

from pathlib import Path

from ...stats import Summary

TEST = "test/score"


def ci(s: Summary | None) -> str:
    """A mean over seeds with its 95 % interval; one seed has no interval and says so."""
    if s is None:
        return "n/a"
    if s.n == 1:
        return f"{s.mean:.4g} (1 seed)"
    return f"{s.mean:.4g} [{s.ci_low:.4g}, {s.ci_high:.4g}]"


def save_figures(fig, out, stem: str) -> list[Path]:
    """``out/<stem>.{png,svg}``; closes the figure (a report may draw hundreds)."""
    from ..plots import FORMATS, _pyplot

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in FORMATS:
        fig.savefig(out / f"{stem}.{fmt}")
        written.append(out / f"{stem}.{fmt}")
    _pyplot().close(fig)
    return written


def write_per_setting(keys, draw, out, prefix: str) -> list[Path]:
    """One figure per (task, model, scale, ratio) setting, ``out/<prefix>-<task>-<model>-<scale>-r<ratio>``;
    ``draw(key)`` returns the figure. Returns the paths written."""
    written: list[Path] = []
    for key in sorted(keys):
        written += save_figures(draw(key), out, f"{prefix}-{key[0]}-{key[1]}-{key[2]}-r{key[3]}")
    return written
