"""Deletion capacity (MU-Bench §"deletion capacity"): for each (task, model, scale, method), the
largest deletion ratio whose mean test score over seeds stays within ``tolerance`` (absolute, in score
units) of the original's test score at the same ratio. A gain never counts against a method: only a
drop of more than ``tolerance`` does."""
from __future__ import annotations

from dataclasses import dataclass

from ...stats import Summary, interval_rule, summarize
from ..load import ReportData
from .common import TEST, ci, save_figures

#: the paper's claim (deletion-capacity analysis): RandLabel and SalUn delete more than SCRUB before
#: the test score breaks, and Bad-T the least of all methods
CAPACITY_CLAIM = "RandLabel and SalUn have a larger deletion capacity than SCRUB; Bad-T has the smallest"


@dataclass
class CapacityRow:
    task: str
    model: str
    scale: str
    method: str  # the row label
    unlearner: str  # the registered method name (what the finding's rule matches)
    ratios: tuple[int, ...]  # ratios with done cells for both the method and the original
    capacity: int | None  # largest ratio within tolerance; None: no tested ratio is
    test: Summary | None  # the method's test score over seeds at ``capacity``
    original: Summary | None  # the original's test score at ``capacity``
    drop: Summary | None  # original − method test score, paired by seed, at ``capacity``


def _by_seed(cells, key) -> dict[int, float]:
    return {c["seed"]: c["metrics"][TEST] for c in cells if c["status"] == "done" and key(c)
            and c["metrics"].get(TEST) is not None}


def capacity_rows(data: ReportData, tolerance: float) -> list[CapacityRow]:
    """One row per (task, model, scale, method); retraining is included as a reference, the original not."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"--tolerance must lie in [0, 1) (an absolute test-score drop), not {tolerance}")
    cells = [c for c in data.cells if c["status"] == "done"]
    methods = sorted({(c["task"], c["model"], c["scale"], c["label"], c["unlearner"]) for c in cells
                      if c["kind"] != "original"})
    rows = []
    for task, model, scale, label, unlearner in methods:
        same = lambda c: (c["task"], c["model"], c["scale"]) == (task, model, scale)  # noqa: E731
        within: dict[int, tuple[dict, dict]] = {}
        for ratio in sorted({c["ratio"] for c in cells if same(c) and c["label"] == label}):
            mine = _by_seed(cells, lambda c: same(c) and c["label"] == label and c["ratio"] == ratio)
            orig = _by_seed(cells, lambda c: same(c) and c["kind"] == "original" and c["ratio"] == ratio)
            if mine and orig:
                within[ratio] = (mine, orig)
        passing = [r for r, (mine, orig) in within.items()
                   if sum(orig.values()) / len(orig) - sum(mine.values()) / len(mine) <= tolerance]
        cap = max(passing) if passing else None
        test = original = drop = None
        if cap is not None:
            mine, orig = within[cap]
            test, original = summarize(list(mine.values())), summarize(list(orig.values()))
            paired = sorted(set(mine) & set(orig))
            drop = summarize([orig[s] - mine[s] for s in paired]) if paired else None
        rows.append(CapacityRow(task, model, scale, label, unlearner, tuple(within), cap, test, original, drop))
    return rows


def capacity_finding(rows: list[CapacityRow]) -> list[str]:
    """Per (task, model, scale): does this run support :data:`CAPACITY_CLAIM`? The rule (printed):
    capacities compare as numbers, no ratio within tolerance counting as 0; the claim holds where
    cap(randlabel) > cap(scrub), cap(salun) > cap(scrub), and cap(badt) is the minimum over the
    unlearning methods (retraining excluded) and below at least one of them. Untestable where one
    of the four methods is missing."""
    lines = []
    for key in sorted({(r.task, r.model, r.scale) for r in rows}):
        cap = {r.unlearner: r.capacity or 0 for r in rows if (r.task, r.model, r.scale) == key and r.unlearner != "retrain"}
        missing = [m for m in ("randlabel", "salun", "scrub", "badt") if m not in cap]
        where = "/".join(key)
        if missing:
            lines.append(f"- {where}: not testable (no {', '.join(missing)} in this run)")
            continue
        parts = {
            "randlabel > scrub": cap["randlabel"] > cap["scrub"],
            "salun > scrub": cap["salun"] > cap["scrub"],
            "badt smallest": cap["badt"] == min(cap.values()) and cap["badt"] < max(cap.values()),
        }
        verdict = "supports" if all(parts.values()) else "does not support"
        detail = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in parts.items())
        lines.append(f"- {where}: {verdict} ({detail}; capacities % {cap})")
    return lines


def render_capacity(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    rows = capacity_rows(data, tolerance)
    if not rows:
        raise ValueError("no finished unlearning or retrain cells to analyse")
    ratios = sorted({r for row in rows for r in row.ratios})
    if len(ratios) < 2:
        raise ValueError(f"deletion capacity needs at least two deletion ratios; this run has {ratios}")
    body = [[r.task, r.model, r.scale, r.method, ", ".join(map(str, r.ratios)),
             "none" if r.capacity is None else r.capacity, ci(r.test), ci(r.original), ci(r.drop)] for r in rows]
    head = ["task", "model", "scale", "method", "ratios %", "capacity %", "test at capacity", "original test", "drop"]
    out = [f"Deletion capacity (tolerance {tolerance:g}): the largest ratio whose mean test score over seeds is at most "
           f"{tolerance:g} below the original's at that ratio; 'none': every tested ratio drops more.",
           tabulate(body, headers=head, tablefmt=tablefmt, disable_numparse=True),
           f"Intervals: {interval_rule()}; drop = original − method test score, paired by seed.",
           "",
           f"Finding (paper): {CAPACITY_CLAIM}.",
           "Rule: no ratio within tolerance counts as 0; holds where cap(randlabel) > cap(scrub), cap(salun) > cap(scrub), "
           "and cap(badt) is the minimum over the unlearning methods (retrain excluded) and below at least one.",
           *capacity_finding(rows)]
    return "\n".join(out)


def plot_capacity(data: ReportData, rows: list[CapacityRow], key: tuple[str, str, str], tolerance: float):
    """Left: each method's mean test score vs the ratio, the original's, and the line ``tolerance`` below
    it that defines the capacity. Right: each method's capacity (0: none within tolerance)."""
    from ..plots import _pyplot

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    done = [c for c in data.cells if c["status"] == "done" and (c["task"], c["model"], c["scale"]) == key
            and c["metrics"].get(TEST) is not None]
    for label in sorted({c["label"] for c in done}):
        by_ratio: dict[int, list[float]] = {}
        for c in done:
            if c["label"] == label:
                by_ratio.setdefault(c["ratio"], []).append(c["metrics"][TEST])
        ratios = sorted(by_ratio)
        means = [sum(by_ratio[r]) / len(by_ratio[r]) for r in ratios]
        style = dict(color="black", linewidth=2) if label == "original" else {}
        left.plot(ratios, means, marker="o", label=label, **style)
        if label == "original":
            left.plot(ratios, [m - tolerance for m in means], color="black", linestyle=":", label=f"original − {tolerance:g}")
    left.set(xlabel="deletion ratio %", ylabel="test score (mean over seeds)")
    left.legend(fontsize="small")
    mine = [r for r in rows if (r.task, r.model, r.scale) == key]
    right.bar([r.method for r in mine], [r.capacity or 0 for r in mine])
    right.set(ylabel="deletion capacity %", title=f"tolerance {tolerance:g}")
    right.tick_params(axis="x", rotation=30)
    fig.suptitle("/".join(key))
    fig.tight_layout()
    return fig


def write_capacity_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``capacity-<task>-<model>-<scale>.{png,svg}`` in ``out``; returns the paths written."""
    rows, written = capacity_rows(data, tolerance), []
    for key in sorted({(r.task, r.model, r.scale) for r in rows}):
        written += save_figures(plot_capacity(data, rows, key, tolerance), out, f"capacity-{'-'.join(key)}")
    return written
