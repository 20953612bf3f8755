"""Is the forgetting real? (beyond the paper): per method, how much of the Df score returns under the
``quantization`` and ``relearning`` metrics, next to what returns for the retrained model of the same
cells; a method's forgetting counts as robust where no return exceeds retraining's by more than
``tolerance``."""
from __future__ import annotations

from ...stats import Summary, summarize
from ..load import ReportData
from .common import ci, write_per_setting

#: (column, how it is computed from a cell's metrics): how much Df score each attack gives back
RETURNS = {
    "int8 rise": lambda m: _diff(m.get("robust/df_score_int8"), m.get("forget/score")),
    "int4 rise": lambda m: _diff(m.get("robust/df_score_int4"), m.get("forget/score")),
    "relearn return": lambda m: m.get("robust/relearn_return"),
}


def _diff(a, b):
    return None if a is None or b is None else a - b


def _returns(data: ReportData) -> dict[tuple, dict[str, Summary | None]]:
    """{(task, model, scale, ratio, label): {attack column: its return over seeds}}; the original is left
    out (it has forgotten nothing to give back)."""
    done = [c for c in data.cells if c["status"] == "done" and c["kind"] != "original"]
    if not any(c["metrics"].get("robust/relearn_return") is not None or c["metrics"].get("robust/df_score_int8")
               is not None for c in done):
        raise ValueError("no quantization or relearning values in these results (name them under metrics:)")
    groups: dict[tuple, list[dict]] = {}
    for c in done:
        groups.setdefault((c["task"], c["model"], c["scale"], c["ratio"], c["label"]), []).append(c)
    return {key: {name: summarize([f(c["metrics"]) for c in cells]) for name, f in RETURNS.items()}
            for key, cells in groups.items()}


def render_robustness(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    means = _returns(data)
    body, verdicts = [], []
    for key in sorted(means):
        task, model, scale, ratio, label = key
        ref = means.get((task, model, scale, ratio, "retrain"))
        body.append([task, model, scale, ratio, label, *(ci(means[key][n]) for n in RETURNS)])
        if label == "retrain" or ref is None:
            continue
        worse = [n for n in RETURNS if means[key][n] is not None and ref[n] is not None
                 and means[key][n].mean > ref[n].mean + tolerance]
        verdicts.append(f"- {task}/{model}/{scale} {ratio} % {label}: "
                        + (f"less robust than retraining ({', '.join(worse)})" if worse else "as robust as retraining"))
    head = ["task", "model", "scale", "ratio %", "method", *RETURNS]
    return "\n".join([
        "Robustness of forgetting: Df score given back by each attack (mean over seeds, 95 % interval); "
        "int{8,4} rise = Df score after quantisation − Df score, relearn return = robust/relearn_return.",
        tabulate(body, headers=head, tablefmt=tablefmt, disable_numparse=True),
        "",
        "Finding (beyond the paper; Zhang et al. 2024 and Lynch et al. 2024 report that unlearned LLMs give back "
        "forgotten knowledge under both attacks): is each method's forgetting as robust as retraining's?",
        f"Rule: robust where no mean return exceeds the retrain row's of the same cells by more than {tolerance:g}.",
        *(verdicts or ["- not testable (no retrain rows beside the methods)"])])


def plot_robustness(means: dict[tuple, dict[str, Summary | None]], key: tuple, tolerance: float):
    """One panel per attack: each method's mean return (95 % interval) against retraining's + ``tolerance``
    (dashed), the line the rule puts a method's forgetting past; bars above it are drawn red."""
    from ..plots import _pyplot

    plt = _pyplot()
    labels = sorted((k[4] for k in means if k[:4] == key), key=lambda m: (m != "retrain", m))
    fig, axes = plt.subplots(1, len(RETURNS), figsize=(4.2 * len(RETURNS), 3.8), sharey=True)
    ref = means.get((*key, "retrain"))
    for ax, name in zip(axes, RETURNS):
        vals = [means[(*key, m)][name] for m in labels]
        line = ref[name].mean + tolerance if ref is not None and ref[name] is not None else None
        colors = ["grey" if m == "retrain" else "C3" if v is not None and line is not None and v.mean > line else "C0"
                  for m, v in zip(labels, vals)]
        ax.bar(range(len(labels)), [v.mean if v else 0 for v in vals], color=colors,
               yerr=[0 if v is None or v.n < 2 else v.ci_high - v.mean for v in vals])
        if line is not None:
            ax.axhline(line, color="black", linestyle="--", label=f"retrain + {tolerance:g}")
            ax.legend(fontsize="small")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set(title=name, xticks=range(len(labels)), xticklabels=labels)
        ax.tick_params(axis="x", rotation=30)
    axes[0].set(ylabel="Df score given back (mean over seeds)")
    fig.suptitle(f"{'/'.join(key[:3])}, Df = {key[3]} %")
    fig.tight_layout()
    return fig


def write_robustness_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``robustness-<task>-<model>-<scale>-r<ratio>.{png,svg}`` in ``out``; returns the paths written."""
    means = _returns(data)
    return write_per_setting({k[:4] for k in means}, lambda key: plot_robustness(means, key, tolerance), out, "robustness")
