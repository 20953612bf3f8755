"""Curriculum learning (MU-Bench §"Does unlearning benefit from curriculum learning?"): each method run
without a curriculum and with SuperLoss, at the same seeds; the gap in Df and test score, as the
paper's table prints it (gap = non-CL − CL: negative where SuperLoss leaves a higher Df score, i.e.
forgets less).

A variant is *on* where its resolved arguments hold a ``curriculum`` (else where its cell's notes
record one); on and off are paired when their arguments differ in ``curriculum`` alone, and their
cells by seed."""
from __future__ import annotations

from dataclasses import dataclass

from ...stats import Summary, interval_rule, summarize
from ..load import ReportData
from .common import TEST, ci, write_per_setting
from .peft import DF, by_seed, method_names, resolved_args, variant_signature

CURRICULUM_CLAIM = ("SuperLoss leaves a slightly higher Df score (curriculum learning helps the model forget less) "
                    "and does not facilitate unlearning in most cases")


@dataclass
class CurriculumRow:
    task: str
    model: str
    scale: str
    ratio: int
    method: str
    df_off: Summary | None
    df_on: Summary | None
    df_gap: Summary | None  # off − on, paired by seed (the paper's sign)
    test_off: Summary | None
    test_on: Summary | None
    test_gap: Summary | None


def _on(cell: dict, resolved: dict[str, dict]) -> bool:
    args = resolved.get(cell["label"])
    return args.get("curriculum") is not None if args is not None else "curriculum" in cell["notes"]


def _gap(off: dict[int, float], on: dict[int, float]) -> Summary | None:
    seeds = sorted(set(off) & set(on))
    return summarize([off[s] - on[s] for s in seeds]) if seeds else None


def curriculum_rows(data: ReportData) -> list[CurriculumRow]:
    """One row per (task, model, scale, ratio, method) that ran both with and without SuperLoss."""
    resolved = resolved_args(data)
    groups: dict[tuple, list[dict]] = {}
    for c in data.cells:
        if c["status"] == "done" and c["kind"] == "unlearned":
            key = (c["task"], c["model"], c["scale"], c["ratio"], c["unlearner"], variant_signature(c, resolved, "curriculum"))
            groups.setdefault(key, []).append(c)
    names = method_names(groups, resolved, "curriculum")
    rows = []
    for key in sorted(groups):
        on = [c for c in groups[key] if _on(c, resolved)]
        off = [c for c in groups[key] if not _on(c, resolved)]
        if not on or not off:
            continue
        d_off, d_on, t_off, t_on = by_seed(off, DF), by_seed(on, DF), by_seed(off, TEST), by_seed(on, TEST)
        rows.append(CurriculumRow(*key[:4], names[key], summarize(list(d_off.values())), summarize(list(d_on.values())),
                                  _gap(d_off, d_on), summarize(list(t_off.values())), summarize(list(t_on.values())),
                                  _gap(t_off, t_on)))
    return rows


def _class(gap: Summary | None, tolerance: float) -> str | None:
    """How SuperLoss moved the Df score: ``less`` (forgets less: gap < −tolerance), ``more`` (gap > tolerance,
    it facilitated unlearning), ``same``; ``None`` without a paired gap."""
    if gap is None:
        return None
    return "less" if gap.mean < -tolerance else "more" if gap.mean > tolerance else "same"


def curriculum_finding(rows: list[CurriculumRow], tolerance: float) -> list[str]:
    """Per (task, model, scale, ratio) and over all rows: the claim holds where SuperLoss facilitates
    forgetting (mean Df gap > tolerance) in fewer than half of the methods, and leaves a higher Df score
    (gap < −tolerance) in at least as many methods as it leaves a lower one."""
    lines = []
    groups = {(r.task, r.model, r.scale, r.ratio): [] for r in rows}
    for r in rows:
        groups[(r.task, r.model, r.scale, r.ratio)].append(r)
    for key, mine in [*sorted(groups.items()), (("all", "", "", ""), rows)]:
        classes = [c for c in (_class(r.df_gap, tolerance) for r in mine) if c is not None]
        where = "all rows" if key[0] == "all" else f"{'/'.join(key[:3])} {key[3]} %"
        if not classes:
            lines.append(f"- {where}: not testable (no seed ran both with and without SuperLoss)")
            continue
        n = {k: classes.count(k) for k in ("less", "same", "more")}
        holds = n["more"] < len(classes) / 2 and n["less"] >= n["more"]
        lines.append(f"- {where}: {'supports' if holds else 'does not support'} (of {len(classes)} methods, SuperLoss "
                     f"forgets less in {n['less']}, the same in {n['same']}, more in {n['more']})")
    return lines


def gap_table(rows: list[CurriculumRow], tablefmt: str) -> str:
    """The paper's layout: one column per task (its methods' mean), Ave over those columns; rows Non-CL,
    CL and Gap of the Df score."""
    from tabulate import tabulate

    cols: dict[str, list[CurriculumRow]] = {}
    for r in rows:
        cols.setdefault(f"{r.task}/{r.model}/{r.scale} {r.ratio} %", []).append(r)

    def mean(vals):
        vals = [v for v in vals if v is not None]
        return sum(vals) / len(vals) if vals else None

    table = {name: [mean([getattr(getattr(r, f), "mean", None) for r in rs]) for rs in cols.values()]
             for name, f in (("Non-CL", "df_off"), ("CL", "df_on"), ("Gap", "df_gap"))}
    body = [[name, *("n/a" if v is None else f"{v:.4g}" for v in (*vals, mean(vals)))] for name, vals in table.items()]
    return tabulate(body, headers=["Df score", *cols, "Ave"], tablefmt=tablefmt, disable_numparse=True)


def render_curriculum(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    rows = curriculum_rows(data)
    if not rows:
        raise ValueError("no method ran both with and without a curriculum (give unlearners labelled variants, "
                         "one with curriculum: superloss and one without)")
    body = [[r.task, r.model, r.scale, r.ratio, r.method, ci(r.df_off), ci(r.df_on), ci(r.df_gap),
             ci(r.test_off), ci(r.test_on), ci(r.test_gap)] for r in rows]
    head = ["task", "model", "scale", "ratio %", "method", "Df non-CL", "Df CL", "Df gap", "test non-CL", "test CL", "test gap"]
    return "\n".join([
        "Curriculum: each method without a curriculum (non-CL) and with SuperLoss (CL); gap = non-CL − CL, paired by "
        "seed (the paper's sign: negative where SuperLoss leaves the higher score).",
        tabulate(body, headers=head, tablefmt=tablefmt, disable_numparse=True),
        f"Intervals: {interval_rule()}.",
        "",
        "The paper's gap table (Df score; each column the mean over its methods):",
        gap_table(rows, tablefmt),
        "",
        f"Finding (paper): {CURRICULUM_CLAIM}.",
        f"Rule: with tolerance {tolerance:g}, per method SuperLoss forgets less where the mean Df gap is below −{tolerance:g}, "
        f"more (facilitates unlearning) where above {tolerance:g}, the same otherwise; the claim holds where it forgets "
        "more in fewer than half of the methods and forgets less in at least as many as it forgets more.",
        *curriculum_finding(rows, tolerance)])


def plot_curriculum(rows: list[CurriculumRow], key: tuple):
    """Df score (left) and test score (right) per method, non-CL and CL side by side with their intervals."""
    from ..plots import _pyplot

    plt = _pyplot()
    mine = [r for r in rows if (r.task, r.model, r.scale, r.ratio) == key]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    xs = range(len(mine))
    for ax, (off, on, title) in zip(axes, (("df_off", "df_on", "Df score"), ("test_off", "test_on", "test score"))):
        for shift, attr, label in ((-0.2, off, "non-CL"), (0.2, on, "CL (SuperLoss)")):
            s = [getattr(r, attr) for r in mine]
            means = [v.mean if v else 0.0 for v in s]
            err = [[m - v.ci_low if v else 0 for m, v in zip(means, s)], [v.ci_high - m if v else 0 for m, v in zip(means, s)]]
            ax.bar([x + shift for x in xs], means, width=0.4, yerr=err, capsize=3, label=label)
        ax.set_xticks(list(xs), [r.method for r in mine], rotation=30)
        ax.set(ylabel=f"{title} (mean over seeds)", title=title)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{'/'.join(key[:3])}, Df = {key[3]} %")
    fig.tight_layout()
    return fig


def write_curriculum_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``curriculum-<task>-<model>-<scale>-r<ratio>.{png,svg}`` in ``out``; returns the paths written."""
    rows = curriculum_rows(data)
    return write_per_setting({(r.task, r.model, r.scale, r.ratio) for r in rows}, lambda key: plot_curriculum(rows, key),
                             out, "curriculum")
