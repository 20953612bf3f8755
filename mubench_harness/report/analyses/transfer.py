"""Bias / transfer (MU-Bench "Does unlearning amplify biases?"): for each (task, model, scale, ratio,
method), the score on the task's shifted or adversarial test set (its ``ood`` split: CIFAR-100-C for
CIFAR-100, Rotten Tomatoes for IMDB, ...) before and after unlearning, with the in-distribution test
score beside it. The original model of the same ratio and seed is the "before": the change is paired
by seed, so the split noise of one seed does not count as an effect of the method."""
from __future__ import annotations

from dataclasses import dataclass

from ...stats import Summary, interval_rule, summarize
from ..load import ReportData
from .common import TEST, ci, write_per_setting

OOD = "ood/score"

#: the paper's claim (bias analysis, Figure 5): NegGrad changes the zero-shot transfer score a lot; the
#: other evaluated methods (RandLabel, SalUn, SCRUB, Bad-T) leave it about where the original had it
TRANSFER_CLAIM = ("NegGrad significantly affects the score on the transfer (OOD) test set, while the other "
                  "methods do not strongly change it")
OTHERS = ("randlabel", "salun", "scrub", "badt")


@dataclass
class TransferRow:
    task: str
    model: str
    scale: str
    ratio: int
    method: str  # the row label
    unlearner: str  # the registered method name (what the finding's rule matches)
    original_ood: Summary | None  # the original's OOD score over the seeds the method has
    ood: Summary | None  # the method's OOD score over seeds
    ood_change: Summary | None  # method − original OOD score, paired by seed
    original_test: Summary | None
    test: Summary | None
    test_change: Summary | None  # method − original test score, paired by seed


def _values(cells, metric: str) -> dict[int, float]:
    return {c["seed"]: c["metrics"][metric] for c in cells if c["metrics"].get(metric) is not None}


def _paired(mine: dict[int, float], orig: dict[int, float]) -> tuple[Summary | None, Summary | None, Summary | None]:
    seeds = sorted(set(mine) & set(orig))
    if not seeds:
        return None, summarize(list(mine.values())) if mine else None, None
    return (summarize([orig[s] for s in seeds]), summarize([mine[s] for s in seeds]),
            summarize([mine[s] - orig[s] for s in seeds]))


def transfer_rows(data: ReportData) -> list[TransferRow]:
    """One row per (task, model, scale, ratio, method) with an OOD score; retraining is a row too (what the
    transfer score of a model that never saw Df is), the original is the reference of every row."""
    done = [c for c in data.cells if c["status"] == "done"]
    if not any(c["metrics"].get(OOD) is not None for c in done):
        raise ValueError(f"no {OOD} in these results: the transfer analysis needs tasks with an OOD split "
                         "(see `mubench list tasks`) and the performance metric")
    groups: dict[tuple, list[dict]] = {}
    for c in done:
        groups.setdefault((c["task"], c["model"], c["scale"], c["ratio"], c["label"], c["unlearner"], c["kind"]), []).append(c)
    rows = []
    for (task, model, scale, ratio, label, unlearner, kind), cells in sorted(groups.items()):
        if kind == "original" or not _values(cells, OOD):
            continue
        orig = [c for c in done if (c["task"], c["model"], c["scale"], c["ratio"], c["kind"])
                == (task, model, scale, ratio, "original")]
        o_ood, ood, d_ood = _paired(_values(cells, OOD), _values(orig, OOD))
        o_test, test, d_test = _paired(_values(cells, TEST), _values(orig, TEST))
        rows.append(TransferRow(task, model, scale, ratio, label, unlearner, o_ood, ood, d_ood, o_test, test, d_test))
    return rows


def transfer_finding(rows: list[TransferRow], tolerance: float) -> list[str]:
    """Per (task, model, scale, ratio): does this run support :data:`TRANSFER_CLAIM`? The rule (printed):
    NegGrad's mean paired OOD change is larger than ``tolerance`` in size, and every other method of the
    claim that is present changes it by at most ``tolerance`` (retraining is not a method of the claim).
    Untestable without NegGrad, without any other method of the claim, or without paired originals."""
    lines = []
    for key in sorted({(r.task, r.model, r.scale, r.ratio) for r in rows}):
        change = {r.unlearner: r.ood_change.mean for r in rows
                  if (r.task, r.model, r.scale, r.ratio) == key and r.ood_change is not None}
        where = f"{key[0]}/{key[1]}/{key[2]} {key[3]} %"
        others = [m for m in OTHERS if m in change]
        if "neggrad" not in change or not others:
            missing = ", ".join(m for m in ("neggrad", *OTHERS) if m not in change)
            lines.append(f"- {where}: not testable (no OOD change for {missing} in this run)")
            continue
        parts = {"neggrad changes OOD": abs(change["neggrad"]) > tolerance,
                 **{f"{m} within": abs(change[m]) <= tolerance for m in others}}
        verdict = "supports" if all(parts.values()) else "does not support"
        detail = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in parts.items())
        shown = {m: round(v, 4) for m, v in change.items() if m != "retrain"}
        lines.append(f"- {where}: {verdict} ({detail}; OOD change {shown})")
    return lines


def render_transfer(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    rows = transfer_rows(data)
    body = [[r.task, r.model, r.scale, r.ratio, r.method, ci(r.original_ood), ci(r.ood), ci(r.ood_change),
             ci(r.original_test), ci(r.test), ci(r.test_change)] for r in rows]
    head = ["task", "model", "scale", "ratio %", "method", "original OOD", "OOD", "OOD change",
            "original test", "test", "test change"]
    return "\n".join([
        "Bias / transfer: score on each task's shifted (OOD) test set, original vs unlearned, and the test score "
        "beside it; change = method − original, paired by seed (negative: the method lost transfer).",
        tabulate(body, headers=head, tablefmt=tablefmt, disable_numparse=True),
        f"Intervals: {interval_rule()}.",
        "",
        f"Finding (paper): {TRANSFER_CLAIM}.",
        f"Rule: holds where |mean OOD change| of neggrad > {tolerance:g} and that of every other method present of "
        f"{', '.join(OTHERS)} is ≤ {tolerance:g} (retrain excluded); --tolerance sets the bound.",
        *transfer_finding(rows, tolerance)])


def plot_transfer(rows: list[TransferRow], key: tuple, tolerance: float):
    """Left: OOD and test score per method, the original's as lines. Right: the paired changes with their
    intervals against the ±tolerance band the finding's rule uses."""
    from ..plots import _pyplot

    plt = _pyplot()
    mine = [r for r in rows if (r.task, r.model, r.scale, r.ratio) == key]
    names = [r.method for r in mine]
    x = range(len(mine))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    w = 0.38
    left.bar([i - w / 2 for i in x], [r.ood.mean if r.ood else 0 for r in mine], w, label="OOD")
    left.bar([i + w / 2 for i in x], [r.test.mean if r.test else 0 for r in mine], w, label="test")
    # the original is the same model for every row of the key (the seeds a row lacks aside): one line each
    ref = next((r for r in mine if r.original_ood and r.original_test), None)
    if ref is not None:
        left.axhline(ref.original_ood.mean, color="C0", linestyle="--", label="original OOD")
        left.axhline(ref.original_test.mean, color="C1", linestyle="--", label="original test")
    left.set(ylabel="score (mean over seeds)", xticks=list(x), xticklabels=names)
    left.tick_params(axis="x", rotation=30)
    left.legend(fontsize="small")

    def err(s):
        return 0 if s is None or s.n < 2 else s.ci_high - s.mean

    right.bar([i - w / 2 for i in x], [r.ood_change.mean if r.ood_change else 0 for r in mine], w,
              yerr=[err(r.ood_change) for r in mine], label="OOD change")
    right.bar([i + w / 2 for i in x], [r.test_change.mean if r.test_change else 0 for r in mine], w,
              yerr=[err(r.test_change) for r in mine], label="test change")
    right.axhspan(-tolerance, tolerance, color="grey", alpha=0.2, label=f"±{tolerance:g}")
    right.axhline(0, color="black", linewidth=0.8)
    right.set(ylabel="method − original (paired)", xticks=list(x), xticklabels=names)
    right.tick_params(axis="x", rotation=30)
    right.legend(fontsize="small")
    fig.suptitle(f"{'/'.join(key[:3])}, Df = {key[3]} %")
    fig.tight_layout()
    return fig


def write_transfer_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``transfer-<task>-<model>-<scale>-r<ratio>.{png,svg}`` in ``out``; returns the paths written."""
    rows = transfer_rows(data)
    return write_per_setting({(r.task, r.model, r.scale, r.ratio) for r in rows},
                             lambda key: plot_transfer(rows, key, tolerance), out, "transfer")
