"""Aggregate cells over seeds and render one table: github, markdown, latex, csv or json.

One row per (task, model, scale, method, ratio); the original model and retraining appear as their
own reference rows. Each metric shows mean ± std over seeds; json adds the 95 % interval of the mean
and how it was made (Student-t over few seeds, bootstrap over many: :mod:`mubench_harness.stats`).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from ..stats import summarize
from .load import ReportData

FORMATS = ("github", "markdown", "latex", "csv", "json")
GROUP = ("task", "model", "scale", "label", "ratio")
#: reference rows first within a (task, model, scale, ratio) block
_KIND_ORDER = {"original": 0, "retrain": 1, "unlearned": 2}


def select_metrics(data: ReportData, patterns: Iterable[str]) -> list[str]:
    """The metric values whose names match any of the shell-style ``patterns`` (``forget/*score``),
    in the order of the patterns; a pattern that matches nothing is an error naming what exists."""
    from fnmatch import fnmatchcase

    available = sorted({n for c in data.cells for n in c["metrics"]})
    chosen: list[str] = []
    for pattern in patterns:
        matches = [n for n in available if fnmatchcase(n, pattern)]
        if not matches:
            raise ValueError(f"--metrics {pattern!r} matches no value in these results "
                             f"(they have: {', '.join(available) or 'none'})")
        chosen += [n for n in matches if n not in chosen]
    return chosen


def aggregate(data: ReportData, metrics: Iterable[str] | None = None) -> tuple[list[dict], list[str]]:
    """Rows of aggregated ``done`` cells and the metric names (columns) in a stable order."""
    groups: dict[tuple, list[dict]] = {}
    for cell in data.cells:
        if cell["status"] == "done":
            groups.setdefault(tuple(cell[k] for k in GROUP), []).append(cell)
    names = sorted({n for c in data.cells for n in c["metrics"]}) if metrics is None else list(metrics)
    rows = []
    for key, cells in groups.items():
        row = dict(zip(GROUP, key))
        row["kind"] = cells[0]["kind"]
        row["seeds"] = len(cells)
        row["failed"] = sum(1 for c in data.cells if c["status"] != "done" and tuple(c[k] for k in GROUP) == key)
        row["cut"] = sum(1 for c in cells if c["cut"])
        row["metrics"] = {name: summarize([c["metrics"].get(name) for c in cells]) for name in names}
        rows.append(row)
    rows.sort(key=lambda r: (r["task"], r["model"], r["scale"], r["ratio"], _KIND_ORDER[r["kind"]], r["label"]))
    return rows, names


def _fmt(summary) -> str:
    if summary is None:
        return "n/a"
    if summary.n == 1:
        return f"{summary.mean:.4g}"
    return f"{summary.mean:.4g} ± {summary.std:.2g}"


def render(data: ReportData, fmt: str = "github", metrics: Iterable[str] | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows, names = aggregate(data, metrics)
    if fmt == "json":
        return json.dumps([
            {**{k: r[k] for k in (*GROUP, "kind", "seeds", "failed", "cut")},
             "metrics": {n: (None if s is None else {"mean": s.mean, "std": s.std, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n,
                                           "interval": s.interval})
                         for n, s in r["metrics"].items()}}
            for r in rows], indent=2)
    head = ["task", "model", "scale", "method", "ratio %", "seeds"]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head + [f"{n} {part}" for n in names for part in ("mean", "std")])
        for r in rows:
            vals = []
            for n in names:
                s = r["metrics"][n]
                vals += ["", ""] if s is None else [repr(s.mean), repr(s.std)]
            w.writerow([r["task"], r["model"], r["scale"], r["label"], r["ratio"], r["seeds"], *vals])
        return buf.getvalue()
    from tabulate import tabulate

    body = [[r["task"], r["model"], r["scale"], r["label"] + (f" ({r['failed']} failed)" if r["failed"] else ""),
             r["ratio"], r["seeds"], *(_fmt(r["metrics"][n]) for n in names)] for r in rows]
    table_fmt = {"github": "github", "markdown": "pipe", "latex": "latex_booktabs"}[fmt]
    return tabulate(body, headers=head + names, tablefmt=table_fmt, disable_numparse=True)
