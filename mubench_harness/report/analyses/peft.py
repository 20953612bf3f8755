"""Parameter-efficient unlearning (MU-Bench §"Does unlearning benefit from PEFT?"): each method run
with LoRA at several trainable fractions and without LoRA (100 %: every parameter), its Df and test
scores against the fraction, and the smallest fraction that unlearns as well as full fine-tuning.

A variant's fraction is read from the run's resolved arguments (``lora.trainable_fraction`` of its
label; no ``lora`` = 100 %), else from the fraction the cell reached (``lora_fraction`` in its notes,
what a ``rank:`` gives). Variants of one method are grouped when their arguments differ in ``lora``
alone, so two learning rates of one method stay two curves."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ...stats import Summary, interval_rule, summarize
from ..load import ReportData
from .common import TEST, ci, write_per_setting

DF = "forget/score"
#: the paper's threshold: below it, it reports, unlearning is not achieved
THRESHOLD = 50.0
PEFT_CLAIM = ("unlearning cannot be achieved below about 50 % trainable parameters: below it the Df score stays "
              "close to the original's, while the test score is not affected by LoRA")


@dataclass
class FractionPoint:
    fraction: float  # requested trainable fraction, % (100: no LoRA)
    reached: float | None  # the fraction LoRA reached, % (rank rounding), from the cells' notes
    df: Summary | None
    test: Summary | None
    df_drop: Summary | None  # original − method Df score, paired by seed


@dataclass
class PeftRow:
    task: str
    model: str
    scale: str
    ratio: int
    method: str  # the registered method (with the other arguments where variants differ beyond lora)
    original_df: Summary | None
    original_test: Summary | None
    points: list[FractionPoint]  # by fraction, ascending

    def at(self, fraction: float) -> FractionPoint | None:
        return next((p for p in self.points if p.fraction == fraction), None)


def resolved_args(data: ReportData) -> dict[str, dict]:
    return ((data.config or {}).get("resolved_args") or {}).get("unlearners") or {}


def variant_fraction(cell: dict, resolved: dict[str, dict]) -> float | None:
    """The cell's trainable fraction in % (100 without LoRA); ``None`` when neither the run's arguments
    nor the cell's notes say (a LoRA given by rank whose cell failed before it was built)."""
    args = resolved.get(cell["label"])
    if args is not None:
        lora = args.get("lora")
        if lora is None:
            return 100.0
        if lora.get("trainable_fraction") is not None:
            return 100.0 * lora["trainable_fraction"]
    reached = cell["notes"].get("lora_fraction")
    if reached is not None:
        return 100.0 * reached
    return 100.0 if args is None and "lora_rank" not in cell["notes"] else None


def variant_signature(cell: dict, resolved: dict[str, dict], drop: str) -> str:
    """The method's arguments but ``drop``: variants with the same signature form one curve/pair."""
    args = {k: v for k, v in (resolved.get(cell["label"]) or {}).items() if k != drop}
    return json.dumps(args, sort_keys=True)


def method_names(groups: dict[tuple, list[dict]], resolved: dict[str, dict], drop: str) -> dict[tuple, str]:
    """A display name per (…, unlearner, signature) group: the method's name, plus the arguments in which
    its variants differ where one method has several (``neggrad (lr=0.001)``)."""
    by_method: dict[tuple, list[tuple]] = {}
    for key in groups:
        by_method.setdefault(key[:-1], []).append(key)
    names = {}
    for base, keys in by_method.items():
        if len(keys) == 1:
            names[keys[0]] = base[-1]
            continue
        sigs = {k: json.loads(k[-1]) for k in keys}
        differ = sorted({f for s in sigs.values() for f in s if len({json.dumps(t.get(f), sort_keys=True) for t in sigs.values()}) > 1})
        for k in keys:
            names[k] = f"{base[-1]} ({', '.join(f'{f}={json.dumps(sigs[k].get(f))}' for f in differ)})"
    return names


def by_seed(cells: list[dict], metric: str) -> dict[int, float]:
    return {c["seed"]: c["metrics"][metric] for c in cells if c["metrics"].get(metric) is not None}


def _paired_drop(orig: dict[int, float], mine: dict[int, float]) -> Summary | None:
    seeds = sorted(set(orig) & set(mine))
    return summarize([orig[s] - mine[s] for s in seeds]) if seeds else None


def peft_rows(data: ReportData) -> list[PeftRow]:
    """One row per (task, model, scale, ratio, method) with the fractions it ran at."""
    resolved = resolved_args(data)
    done = [c for c in data.cells if c["status"] == "done"]
    groups: dict[tuple, list[dict]] = {}
    for c in done:
        if c["kind"] == "unlearned":
            key = (c["task"], c["model"], c["scale"], c["ratio"], c["unlearner"], variant_signature(c, resolved, "lora"))
            groups.setdefault(key, []).append(c)
    names = method_names(groups, resolved, "lora")
    rows = []
    for key in sorted(groups):
        task, model, scale, ratio = key[:4]
        orig = [c for c in done if c["kind"] == "original" and (c["task"], c["model"], c["scale"], c["ratio"]) == key[:4]]
        odf, otest = by_seed(orig, DF), by_seed(orig, TEST)
        by_fraction: dict[float, list[dict]] = {}
        for c in groups[key]:
            f = variant_fraction(c, resolved)
            if f is not None:
                by_fraction.setdefault(round(f, 6), []).append(c)
        if len(by_fraction) < 2:
            continue  # one fraction: no curve (the method ran without LoRA variants)
        points = []
        for f in sorted(by_fraction):
            cells = by_fraction[f]
            reached = [c["notes"]["lora_fraction"] for c in cells if c["notes"].get("lora_fraction") is not None]
            mine = by_seed(cells, DF)
            points.append(FractionPoint(f, 100.0 * sum(reached) / len(reached) if reached else (100.0 if f == 100 else None),
                                        summarize(list(mine.values())), summarize(list(by_seed(cells, TEST).values())),
                                        _paired_drop(odf, mine)))
        rows.append(PeftRow(task, model, scale, ratio, names[key], summarize(list(odf.values())),
                            summarize(list(otest.values())), points))
    return rows


@dataclass
class PeftVerdict:
    minimum: float | None  # smallest fraction from which every tested fraction unlearns as full fine-tuning
    parts: dict[str, bool]
    verdict: str  # "supports", "partly supports", "does not support", "not testable (...)"


def peft_verdict(row: PeftRow, tolerance: float) -> PeftVerdict:
    """The printed rule, for one row. Full fine-tuning (100 %) must lower the Df score by more than
    ``tolerance`` below the original's (else nothing was unlearned to compare against: not testable).
    A fraction *unlearns as full fine-tuning* where its mean Df score is at most ``tolerance`` above the
    100 % one; the minimum fraction is the smallest tested one from which every larger fraction does.
    Parts: (a) the minimum is ≥ 50 %; (b) every fraction below 50 % keeps the Df score within
    ``tolerance`` of the original's (mean paired drop ≤ tolerance); (c) every fraction's mean test score is
    within ``tolerance`` of full fine-tuning's. Supports: all three; partly supports: (a) but not all three;
    does not support: (a) fails."""
    full = row.at(100.0)
    if full is None or full.df is None:
        return PeftVerdict(None, {}, "not testable (no 100 % run without LoRA)")
    below = [p for p in row.points if p.fraction < THRESHOLD]
    if not below:
        return PeftVerdict(None, {}, "not testable (no fraction below 50 %)")
    if full.df_drop is None or full.df_drop.mean <= tolerance:
        return PeftVerdict(None, {}, f"not testable (full fine-tuning lowers the Df score by at most {tolerance:g})")
    reaches = [p.df is not None and p.df.mean <= full.df.mean + tolerance for p in row.points]
    minimum = next(p.fraction for i, p in enumerate(row.points) if all(reaches[i:]))
    parts = {
        "minimum ≥ 50 %": minimum >= THRESHOLD,
        "Df near the original below 50 %": all(p.df_drop is not None and p.df_drop.mean <= tolerance for p in below),
        "test unaffected": all(p.test is not None and full.test is not None and abs(p.test.mean - full.test.mean) <= tolerance
                               for p in row.points),
    }
    verdict = ("supports" if all(parts.values()) else "partly supports" if parts["minimum ≥ 50 %"]
               else "does not support")
    return PeftVerdict(minimum, parts, verdict)


def _pct(f: float | None) -> str:
    return "n/a" if f is None else f"{f:g}"


def render_peft(data: ReportData, tolerance: float = 0.05, tablefmt: str = "github") -> str:
    from tabulate import tabulate

    rows = peft_rows(data)
    if not rows:
        raise ValueError("no method ran at two or more trainable fractions (give unlearners labelled variants "
                         "with lora: {trainable_fraction: ...} and one without lora)")
    body, verdicts, counts = [], [], {}
    for r in rows:
        for p in r.points:
            body.append([r.task, r.model, r.scale, r.ratio, r.method, _pct(p.fraction),
                         "n/a" if p.reached is None else f"{p.reached:.3g}", ci(p.df), ci(p.df_drop), ci(p.test)])
        v = peft_verdict(r, tolerance)
        detail = "" if not v.parts else (" (" + ", ".join(f"{k}: {'yes' if ok else 'no'}" for k, ok in v.parts.items())
                                         + f"; minimum fraction {_pct(v.minimum)} %)")
        verdicts.append(f"- {r.task}/{r.model}/{r.scale} {r.ratio} % {r.method}: {v.verdict}{detail}")
        counts[v.verdict.split(" (")[0]] = counts.get(v.verdict.split(" (")[0], 0) + 1
    head = ["task", "model", "scale", "ratio %", "method", "fraction %", "reached %", "Df score", "Df drop", "test score"]
    originals = sorted({(r.task, r.model, r.scale, r.ratio, ci(r.original_df), ci(r.original_test)) for r in rows})
    return "\n".join([
        "PEFT: each method with LoRA at trainable fractions of the base parameters (100 % = every parameter, no LoRA); "
        "reached = the fraction LoRA's rank gave; Df drop = original − method Df score, paired by seed.",
        tabulate(body, headers=head, tablefmt=tablefmt, disable_numparse=True),
        "Originals: " + "; ".join(f"{t}/{m}/{s} {ra} %: Df {df}, test {te}" for t, m, s, ra, df, te in originals),
        f"Intervals: {interval_rule()}.",
        "",
        f"Finding (paper): {PEFT_CLAIM}.",
        f"Rule: with tolerance {tolerance:g}, a fraction unlearns as full fine-tuning where its mean Df score is at most "
        f"{tolerance:g} above the 100 % one; the minimum fraction is the smallest from which every larger tested fraction "
        "does. Parts: (a) minimum ≥ 50 %; (b) below 50 % every mean Df drop from the original is ≤ the tolerance; "
        "(c) every fraction's mean test score is within the tolerance of 100 %'s. Supports: all; partly: (a) but not all; "
        "does not support: not (a). Not testable where 100 % lowers the Df score by no more than the tolerance.",
        *verdicts,
        "- all rows: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))])


def plot_peft(rows: list[PeftRow], key: tuple):
    """Df score (left) and test score (right) against the trainable fraction (log axis), one line per
    method with its interval as a band, the original's score dashed."""
    from ..plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    mine = [r for r in rows if (r.task, r.model, r.scale, r.ratio) == key]
    for ax, attr, orig, title in ((axes[0], "df", "original_df", "Df score"), (axes[1], "test", "original_test", "test score")):
        for r in mine:
            pts = [(p.fraction, getattr(p, attr)) for p in r.points if getattr(p, attr) is not None]
            xs = [f for f, _ in pts]
            line, = ax.plot(xs, [s.mean for _, s in pts], marker="o", label=r.method)
            ax.fill_between(xs, [s.ci_low for _, s in pts], [s.ci_high for _, s in pts], color=line.get_color(), alpha=0.15)
        o = getattr(mine[0], orig) if mine else None
        if o is not None:
            ax.axhline(o.mean, color="black", linestyle="--", label="original")
        ax.axvline(THRESHOLD, color="grey", linestyle=":", linewidth=1)
        ax.set(xscale="log", xlabel="trainable fraction % (log)", ylabel=f"{title} (mean over seeds)", title=title)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{'/'.join(key[:3])}, Df = {key[3]} %")
    fig.tight_layout()
    return fig


def write_peft_plots(data: ReportData, out, tolerance: float = 0.05) -> list:
    """``peft-<task>-<model>-<scale>-r<ratio>.{png,svg}`` in ``out``; returns the paths written."""
    rows = peft_rows(data)
    return write_per_setting({(r.task, r.model, r.scale, r.ratio) for r in rows}, lambda key: plot_peft(rows, key),
                             out, "peft")
