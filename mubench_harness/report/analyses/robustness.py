"""Is the forgetting real? (beyond the paper): per method, how much of the Df score returns under the
``quantization`` and ``relearning`` metrics, next to what returns for the retrained model of the same
cells; a method's forgetting counts as robust where no return exceeds retraining's by more than
``tolerance``."""
from __future__ import annotations

from ...stats import Summary, summarize
from ..load import ReportData
from .common import ci

#: (column, how it is computed from a cell's metrics): how much Df score each attack gives back
RETURNS = {
    "int8 rise": lambda m: _diff(m.get("robust/df_score_int8"), m.get("forget/score")),
    "int4 rise": lambda m: _diff(m.get("robust/df_score_int4"), m.get("forget/score")),
    "relearn return": lambda m: m.get("robust/relearn_return"),
}


def _diff(a, b):
    return None if a is None or b is None else a - b


def render_robustness(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    done = [c for c in data.cells if c["status"] == "done" and c["kind"] != "original"]
    if not any(c["metrics"].get("robust/relearn_return") is not None or c["metrics"].get("robust/df_score_int8")
               is not None for c in done):
        raise ValueError("no quantization or relearning values in these results (name them under metrics:)")
    groups: dict[tuple, list[dict]] = {}
    for c in done:
        groups.setdefault((c["task"], c["model"], c["scale"], c["ratio"], c["label"]), []).append(c)
    means: dict[tuple, dict[str, Summary | None]] = {
        key: {name: summarize([f(c["metrics"]) for c in cells]) for name, f in RETURNS.items()}
        for key, cells in groups.items()}
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
