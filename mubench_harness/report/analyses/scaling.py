"""Scaling (MU-Bench "Does unlearning follow scaling laws?"): the Df and test scores a method reaches
against the floating-point operations its cell counted (``cells.flos``: every forward and backward
pass, teacher and mask passes included) and against the model's scale, and how that cost grows with
the deletion ratio.

Scales are ordered by the original model's counted training FLOs (at a fixed training set, the
compute grows with the model's size), so the order needs no per-family size table. A method's
compute is also stated as a share of retraining's on the same cells, which makes the "speed" of
forgetting comparable across scales: Df drop per retrain-equivalent of compute."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...stats import Summary, interval_rule, summarize
from ..load import ReportData
from .common import TEST, ci, save_figures

DF = "forget/score"

#: the paper's claims (scaling analysis): RandLabel, SalUn, NegGrad and Bad-T predict their Df score from
#: the compute better than SCRUB (whose result hinges on its max/min-step switch); NegGrad and SCRUB lower
#: the Df score faster than Bad-T, which is slower because every step iterates Df and Dr and costs more
SCALING_CLAIM = ("RandLabel, SalUn, NegGrad and Bad-T have a better predictability of the Df score given the "
                 "compute (FLOs) than SCRUB; NegGrad and SCRUB decrease the Df score faster; Bad-T is slower and "
                 "costs more compute than the other methods")
PREDICTABLE = ("randlabel", "salun", "neggrad", "badt")
CLAIMED = ("randlabel", "salun", "neggrad", "badt", "scrub")


@dataclass
class ScaleRow:
    """One (task, model, scale, method): its cost and scores over the ratios and seeds it ran."""
    task: str
    model: str
    scale: str
    method: str
    unlearner: str
    ratios: tuple[int, ...]
    flos: Summary | None  # counted FLOs per cell
    share: Summary | None  # FLOs / retraining's FLOs of the same (ratio, seed)
    df: Summary | None
    test: Summary | None
    slope: float | None  # least-squares FLOs per 1 % more Df (over the ratios' mean FLOs)
    growth: float | None  # slope / mean FLOs at the smallest ratio: relative cost growth per 1 % Df


@dataclass
class FamilyRow:
    """One (task, model family, method) over every scale, ratio and seed: the Df score as a function of
    log10 FLOs (its fit and how far the cells scatter about it) and the speed of forgetting."""
    task: str
    model: str
    method: str
    unlearner: str
    points: int
    df_per_decade: float | None  # fitted Df-score change per 10x FLOs
    residual: float | None  # RMS residual of that fit: lower = the compute predicts the Df score better
    speed: Summary | None  # (original Df − Df) / (FLOs / retrain FLOs), per cell


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of y on x; None with fewer than two distinct x."""
    if len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, my - slope * mx


def _scale_order(cells: list[dict], task: str, model: str) -> list[str]:
    orig: dict[str, list[float]] = {}
    for c in cells:
        if (c["task"], c["model"], c["kind"]) == (task, model, "original") and c["flos"]:
            orig.setdefault(c["scale"], []).append(c["flos"])
    scales = sorted({c["scale"] for c in cells if (c["task"], c["model"]) == (task, model)})
    return sorted(scales, key=lambda s: (sum(orig[s]) / len(orig[s]) if s in orig else math.inf, s))


def _reference(cells: list[dict], kind: str) -> dict[tuple, dict]:
    return {(c["task"], c["model"], c["scale"], c["ratio"], c["seed"]): c for c in cells if c["kind"] == kind}


def scaling_rows(data: ReportData) -> tuple[list[ScaleRow], list[FamilyRow]]:
    cells = [c for c in data.cells if c["status"] == "done"]
    runs = [c for c in cells if c["kind"] != "original" and c["flos"] and c["metrics"].get(DF) is not None]
    if not runs:
        raise ValueError("no finished unlearning or retrain cells with counted FLOs and a Df score to analyse")
    retrain, original = _reference(cells, "retrain"), _reference(cells, "original")

    def key(c):
        return c["task"], c["model"], c["scale"], c["ratio"], c["seed"]

    def share(c):
        ref = retrain.get(key(c))
        return c["flos"] / ref["flos"] if ref and ref["flos"] else None

    scale_rows = []
    for task, model, scale, label, unlearner in sorted({(c["task"], c["model"], c["scale"], c["label"], c["unlearner"])
                                                        for c in runs}):
        mine = [c for c in runs if (c["task"], c["model"], c["scale"], c["label"]) == (task, model, scale, label)]
        by_ratio: dict[int, list[float]] = {}
        for c in mine:
            by_ratio.setdefault(c["ratio"], []).append(c["flos"])
        ratios = sorted(by_ratio)
        means = [sum(by_ratio[r]) / len(by_ratio[r]) for r in ratios]
        fit = _fit([float(r) for r in ratios], means)
        scale_rows.append(ScaleRow(
            task, model, scale, label, unlearner, tuple(ratios), summarize([c["flos"] for c in mine]),
            summarize([share(c) for c in mine]), summarize([c["metrics"][DF] for c in mine]),
            summarize([c["metrics"].get(TEST) for c in mine]),
            fit[0] if fit else None, fit[0] / means[0] if fit and means[0] else None))
    family_rows = []
    for task, model, label, unlearner in sorted({(c["task"], c["model"], c["label"], c["unlearner"]) for c in runs}):
        mine = [c for c in runs if (c["task"], c["model"], c["label"]) == (task, model, label)]
        xs, ys = [math.log10(c["flos"]) for c in mine], [c["metrics"][DF] for c in mine]
        fit = _fit(xs, ys) if len(mine) >= 3 else None  # two points always fit exactly: no scatter to measure
        residual = (math.sqrt(sum((y - fit[0] * x - fit[1]) ** 2 for x, y in zip(xs, ys)) / len(xs))
                    if fit else None)
        speeds = []
        for c in mine:
            orig, s = original.get(key(c)), share(c)
            if orig is not None and orig["metrics"].get(DF) is not None and s:
                speeds.append((orig["metrics"][DF] - c["metrics"][DF]) / s)
        family_rows.append(FamilyRow(task, model, label, unlearner, len(mine), fit[0] if fit else None, residual,
                                     summarize(speeds)))
    return scale_rows, family_rows


def scaling_finding(scale_rows: list[ScaleRow], family_rows: list[FamilyRow]) -> list[str]:
    """Per (task, model family): does this run support :data:`SCALING_CLAIM`? The rule (printed):
    predictability: the RMS residual of each of randlabel, salun, neggrad, badt is below scrub's;
    speed: the mean speeds of neggrad and scrub both exceed badt's; cost: badt's mean FLOs share of
    retraining is the largest of the claim's methods at every scale. Untestable where a method of the
    claim is missing or has no fit (fewer than 3 cells, or one FLO value) or no speed (no retrain)."""
    lines = []
    for task, model in sorted({(r.task, r.model) for r in family_rows}):
        fam = {r.unlearner: r for r in family_rows if (r.task, r.model) == (task, model)}
        missing = [m for m in CLAIMED if m not in fam or fam[m].residual is None or fam[m].speed is None]
        where = f"{task}/{model}"
        if missing:
            lines.append(f"- {where}: not testable (no fit or no speed for {', '.join(missing)}: needs each method at "
                         "≥ 3 cells of different FLOs, with retrain and original cells)")
            continue
        shares: dict[str, dict[str, float]] = {}
        for r in scale_rows:
            if (r.task, r.model) == (task, model) and r.unlearner in CLAIMED and r.share is not None:
                shares.setdefault(r.scale, {})[r.unlearner] = r.share.mean
        speed = {m: fam[m].speed.mean for m in CLAIMED}
        parts = {
            "predictability > scrub": all(fam[m].residual < fam["scrub"].residual for m in PREDICTABLE),
            "neggrad, scrub faster than badt": min(speed["neggrad"], speed["scrub"]) > speed["badt"],
            "badt costs most": bool(shares) and all(s.get("badt") is not None and s["badt"] == max(s.values())
                                                    for s in shares.values()),
        }
        verdict = "supports" if all(parts.values()) else "does not support"
        detail = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in parts.items())
        lines.append(f"- {where}: {verdict} ({detail}; RMS residual "
                     f"{ {m: round(fam[m].residual, 4) for m in CLAIMED} }; speed { {m: round(v, 4) for m, v in speed.items()} })")
    return lines


def _num(v: float | None, fmt: str = ".4g") -> str:
    return "n/a" if v is None else format(v, fmt)


def render_scaling(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    """``tolerance`` is not used: the scaling rules compare methods with each other."""
    from tabulate import tabulate

    scale_rows, family_rows = scaling_rows(data)
    order = {(t, m): _scale_order(data.cells, t, m) for t, m in {(r.task, r.model) for r in scale_rows}}
    scale_rows.sort(key=lambda r: (r.task, r.model, r.method, order[(r.task, r.model)].index(r.scale)))
    per_scale = [[r.task, r.model, r.scale, r.method, ", ".join(map(str, r.ratios)), ci(r.flos), ci(r.share),
                  ci(r.df), ci(r.test), _num(r.slope), _num(None if r.growth is None else 100 * r.growth, ".3g")]
                 for r in scale_rows]
    per_family = [[r.task, r.model, r.method, r.points, _num(r.df_per_decade), _num(r.residual), ci(r.speed)]
                  for r in family_rows]
    return "\n".join([
        "Scaling: counted FLOs of each cell (teacher and mask passes included), their share of retraining's on the "
        "same (ratio, seed), and the Df and test scores, per scale (ordered by the original's training FLOs), each a "
        "mean over the scale's ratios and seeds; "
        "cost growth = least-squares FLOs per 1 % more Df, and as % of the smallest ratio's FLOs.",
        tabulate(per_scale, headers=["task", "model", "scale", "method", "ratios %", "FLOs", "FLOs / retrain", "Df score",
                                     "test", "FLOs per 1 % Df", "growth % per 1 % Df"],
                 tablefmt=tablefmt, disable_numparse=True),
        "",
        "Per model family, over every scale, ratio and seed: the Df score fitted on log10 FLOs (change per 10x "
        "compute, and the RMS residual: how well the compute predicts it), and the speed of forgetting = "
        "(original Df − Df) / (FLOs / retrain FLOs), per cell.",
        tabulate(per_family, headers=["task", "model", "method", "cells", "Df per 10x FLOs", "RMS residual", "speed"],
                 tablefmt=tablefmt, disable_numparse=True),
        f"Intervals: {interval_rule()}.",
        "",
        f"Finding (paper): {SCALING_CLAIM}.",
        "Rule: predictability holds where the RMS residual of each of randlabel, salun, neggrad, badt is below scrub's; "
        "speed where the mean speeds of neggrad and scrub both exceed badt's; cost where badt's mean FLOs / retrain is "
        "the largest of the five methods at every scale. The claim holds where all three do.",
        *scaling_finding(scale_rows, family_rows)])


def plot_scaling(data: ReportData, scale_rows: list[ScaleRow], task: str, model: str):
    """Df score and test score vs counted FLOs (log axis; one point per cell), both vs the scale
    (means), and the FLOs vs the deletion ratio (cost growth), one colour per method."""
    from ..plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(19, 4))
    cells = [c for c in data.cells if c["status"] == "done" and (c["task"], c["model"]) == (task, model)
             and c["kind"] != "original" and c["flos"] and c["metrics"].get(DF) is not None]
    scales = _scale_order(data.cells, task, model)
    for i, label in enumerate(sorted({c["label"] for c in cells})):
        color = f"C{i % 10}"
        mine = [c for c in cells if c["label"] == label]
        for ax, metric in ((axes[0], DF), (axes[1], TEST)):
            pts = [(c["flos"], c["metrics"][metric]) for c in mine if c["metrics"].get(metric) is not None]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=color, label=label, s=18)
        rows = {r.scale: r for r in scale_rows if (r.task, r.model, r.method) == (task, model, label)}
        xs = [i for i, s in enumerate(scales) if s in rows]
        axes[2].plot(xs, [rows[scales[i]].df.mean for i in xs], color=color, marker="o", label=f"{label} Df")
        axes[2].plot(xs, [rows[scales[i]].test.mean if rows[scales[i]].test else math.nan for i in xs],
                     color=color, marker="s", linestyle="--")
        for j, scale in enumerate(scales):  # one line per scale: the cost of different models never averages
            by_ratio: dict[int, list[float]] = {}
            for c in mine:
                if c["scale"] == scale:
                    by_ratio.setdefault(c["ratio"], []).append(c["flos"])
            ratios = sorted(by_ratio)
            axes[3].plot(ratios, [sum(by_ratio[r]) / len(by_ratio[r]) for r in ratios], color=color, marker="o",
                         linestyle=("-", "--", ":", "-.")[j % 4])
    axes[0].set(xscale="log", xlabel="counted FLOs", ylabel="Df score")
    axes[1].set(xscale="log", xlabel="counted FLOs", ylabel="test score")
    axes[2].set(xticks=range(len(scales)), xticklabels=scales, xlabel="scale (by original training FLOs)",
                ylabel="score: Df (solid), test (dashed)")
    axes[3].set(yscale="log", xlabel="deletion ratio %", ylabel="FLOs (mean over seeds)",
                title=f"cost growth; line style by scale: {', '.join(scales)}")
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{task}/{model}")
    fig.tight_layout()
    return fig


def write_scaling_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``scaling-<task>-<model>.{png,svg}`` in ``out``; returns the paths written."""
    scale_rows, _ = scaling_rows(data)
    written = []
    for task, model in sorted({(r.task, r.model) for r in scale_rows}):
        written += save_figures(plot_scaling(data, scale_rows, task, model), out, f"scaling-{task}-{model}")
    return written
