"""Figures of a run folder's results (matplotlib, Agg): the shapes of the paper's per-task figures.

Each ``plot_*`` function takes the rows of :func:`..table.aggregate` for one (task, model, scale) and
returns a matplotlib Figure, so other reports (the leaderboard, analyses) can reuse them; :func:`write_plots`
saves every figure of a run as PNG and SVG. Seed intervals are the 95 % intervals of
:func:`mubench_harness.stats.summarize` (Student-t over few seeds); a single seed or ratio plots points.
"""
from __future__ import annotations

from pathlib import Path

from .load import ReportData
from .table import aggregate

#: the headline metrics plotted against the deletion ratio, with their axis labels
HEADLINE = {
    "test/score": "test score",
    "forget/score": "Df score",
    "retain/score": "Dr (sample) score",
    "mia_efficacy/p_true": "MIA efficacy",
    "overall/score": "overall score",
    "time/seconds_vs_retrain": "time / retraining",
}
FORMATS = ("png", "svg")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt

    return plt


def group_rows(rows: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """Aggregated rows by (task, model, scale), in the rows' order."""
    out: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["task"], r["model"], r["scale"]), []).append(r)
    return out


def _by_method(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["label"], []).append(r)
    return {k: sorted(v, key=lambda r: r["ratio"]) for k, v in out.items()}


def _mean(row: dict, metric: str) -> float | None:
    s = row["metrics"].get(metric)
    return None if s is None else s.mean


def plot_metrics_vs_ratio(rows: list[dict], title: str, metrics: dict[str, str] = HEADLINE):
    """One panel per metric: its mean vs the deletion ratio, a line per method with its seed interval."""
    plt = _pyplot()
    shown = [m for m in metrics if any(_mean(r, m) is not None for r in rows)]
    cols = min(max(len(shown), 1), 3)
    nrows = -(-max(len(shown), 1) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 2.8 * nrows), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    colors = plt.get_cmap("tab20").colors  # more distinct colours than methods in one figure (the default cycles at 10)
    for ax, metric in zip(axes.flat, shown):
        for i, (label, mrows) in enumerate(_by_method(rows).items()):
            pts = [(r["ratio"], r["metrics"][metric]) for r in mrows if r["metrics"].get(metric) is not None]
            if not pts:
                continue
            x = [p[0] for p in pts]
            line, = ax.plot(x, [p[1].mean for p in pts], marker="o", label=label, color=colors[i % len(colors)])
            if len(pts) > 1 and any(p[1].n > 1 for p in pts):
                ax.fill_between(x, [p[1].ci_low for p in pts], [p[1].ci_high for p in pts],
                                color=line.get_color(), alpha=0.2, linewidth=0)
            elif any(p[1].n > 1 for p in pts):  # one ratio, several seeds: an error bar, no band
                ax.errorbar(x, [p[1].mean for p in pts], yerr=[[p[1].mean - p[1].ci_low for p in pts],
                            [p[1].ci_high - p[1].mean for p in pts]], fmt="none", color=line.get_color())
        ax.set_xlabel("deletion ratio (%)")
        ax.set_title(metrics[metric], fontsize=9)
    axes[0][0].legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def pareto_front(points: list[tuple[str, float, float]]) -> list[str]:
    """Names of the points no other point beats in both coordinates (both higher is better)."""
    return [n for n, x, y in points
            if not any((x2 >= x and y2 >= y) and (x2 > x or y2 > y) for _, x2, y2 in points)]


def forgetting_utility_points(rows: list[dict]) -> list[tuple[str, float, float]]:
    """Per method (mean over ratios): forgetting = 1 − Df score, utility = test score."""
    pts = []
    for label, mrows in _by_method(rows).items():
        f = [_mean(r, "forget/score") for r in mrows]
        u = [_mean(r, "test/score") for r in mrows]
        pairs = [(a, b) for a, b in zip(f, u) if a is not None and b is not None]
        if pairs:
            pts.append((label, 1 - sum(a for a, _ in pairs) / len(pairs), sum(b for _, b in pairs) / len(pairs)))
    return pts


def plot_forgetting_vs_utility(rows: list[dict], title: str):
    plt = _pyplot()
    pts = forgetting_utility_points(rows)
    front = set(pareto_front(pts))
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for name, x, y in pts:
        ax.scatter([x], [y], marker="*" if name in front else "o", s=120 if name in front else 40)
        ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    on_front = sorted((x, y) for n, x, y in pts if n in front)
    if len(on_front) > 1:
        ax.plot([p[0] for p in on_front], [p[1] for p in on_front], "k--", linewidth=0.8, label="Pareto front")
        ax.legend(fontsize=7)
    ax.set_xlabel("forgetting (1 − Df score)")
    ax.set_ylabel("utility (test score)")
    ax.set_title(title + "\n(★ Pareto front)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_cost(rows: list[dict], title: str):
    """Seconds and counted FLOs per method relative to retraining (mean over ratios; 1 = retraining)."""
    plt = _pyplot()
    methods = _by_method([r for r in rows if r["kind"] != "original"])
    names = list(methods)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 3.2))
    width = 0.4
    for i, (metric, label) in enumerate((("time/seconds_vs_retrain", "seconds"), ("flos/vs_retrain", "FLOs"))):
        vals = []
        for n in names:
            v = [x for x in (_mean(r, metric) for r in methods[n]) if x is not None]
            vals.append(sum(v) / len(v) if v else 0.0)
        ax.bar([j + (i - 0.5) * width for j in range(len(names))], vals, width, label=label)
    ax.axhline(1.0, color="k", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("cost / retraining")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_forget_vs_flos(rows: list[dict], title: str):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for label, mrows in _by_method(rows).items():
        pts = [(_mean(r, "flos/total"), _mean(r, "forget/score")) for r in mrows]
        pts = [p for p in pts if p[0] is not None and p[1] is not None and p[0] > 0]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("counted FLOs")
    ax.set_ylabel("Df score")
    ax.set_title(title, fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: figure kind -> function; a file per (task, model, scale) and kind
FIGURES = {
    "metrics_vs_ratio": plot_metrics_vs_ratio,
    "forgetting_vs_utility": plot_forgetting_vs_utility,
    "cost": plot_cost,
    "forget_vs_flos": plot_forget_vs_flos,
}


def write_plots(data: ReportData, out: str | Path, formats: tuple[str, ...] = FORMATS) -> dict[tuple[str, str, str], list[Path]]:
    """Every figure of every (task, model, scale) of ``data`` under ``out`` as
    ``TASK__MODEL__SCALE__KIND.EXT``; returns the written files by (task, model, scale)."""
    plt = _pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, _ = aggregate(data)
    written: dict[tuple[str, str, str], list[Path]] = {}
    for key, group in group_rows(rows).items():
        title = " · ".join(key)
        for kind, make in FIGURES.items():
            fig = make(group, title)
            for ext in formats:
                path = out / f"{'__'.join(key)}__{kind}.{ext}"
                fig.savefig(path, dpi=90)
                written.setdefault(key, []).append(path)
            plt.close(fig)
    return written
