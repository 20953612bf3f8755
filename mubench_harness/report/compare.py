"""``mubench report DIR --compare A B``: a paired test between two methods over seeds and cells.

A pair is the same (task, model, scale, ratio, seed) cell run with method A and with method B
(methods named by their unlearner label). For each metric value the differences a − b over all pairs
(or within each group of ``by``) are tested with a paired t-test and a Wilcoxon signed-rank test.

Direction comes from each metric's spec. For ``closer-to-retrain`` metrics the compared quantity is
the distance |value − retrain value| to the retrained model of the same cell (lower is better); pairs
whose cell has no finished retrain are left out of that metric, and with no retrain at all the raw
values are compared without naming a winner. Only the cells of the latest run's grid are paired
(as the report table shows them): cells an earlier configuration left in the database never pair
with this one's. A Wilcoxon p that could never fall below 0.05 with so few pairs is printed as n/a
with that reason (5 pairs: the smallest possible p is 0.0625). Reads the database read-only; imports
no torch.
"""
from __future__ import annotations

import difflib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..stats import ALPHA, paired_test

PAIR_KEY = ("task", "model", "scale", "ratio", "seed")
GROUPABLE = ("task", "model", "scale", "ratio")


def metric_directions() -> dict[str, str]:
    """Value name (and metric family) → direction, from every installed metric spec."""
    from ..plugins import load_registry

    out: dict[str, str] = {}
    for spec in load_registry().specs("metrics"):
        out[spec.name] = spec.direction
        for value in spec.values:
            out[value] = spec.direction
    return out


def _direction(name: str, directions: Mapping[str, str]) -> str:
    return directions.get(name) or directions.get(name.split("/", 1)[0], "info")


def _connect(db_path: str | Path) -> sqlite3.Connection:
    path = Path(db_path)
    if path.is_dir():  # a run folder: its results database
        path = path / "results.db"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results database here")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def latest_grid(db: sqlite3.Connection) -> set[str] | None:
    """The cell keys the latest run's benchmark defines; ``None`` for a database without runs."""
    has_runs = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'").fetchone()
    run = db.execute("SELECT grid FROM runs ORDER BY id DESC LIMIT 1").fetchone() if has_runs else None
    return None if run is None else set(json.loads(run[0]))


def compare(db_path: str | Path, a: str, b: str, *, by: Sequence[str] = (), metrics: Sequence[str] | None = None,
            directions: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per (group of ``by``, metric value) with the paired statistics of method ``a`` vs ``b``.

    ``db_path``: the results database, or the run folder holding ``results.db``.

    ``by``: any of task, model, scale, ratio (empty: pool every cell). ``metrics``: value names or
    metric families to keep (default: all). ``directions``: value name → direction (default: from the
    installed metric specs).
    """
    if a == b:
        raise ValueError(f"compare needs two different methods, got {a!r} twice")
    bad = [g for g in by if g not in GROUPABLE]
    if bad:
        raise ValueError(f"cannot group by {bad}; choose from {list(GROUPABLE)}")
    directions = metric_directions() if directions is None else directions
    db = _connect(db_path)
    try:
        grid = latest_grid(db)
        in_grid = (lambda key: True) if grid is None else grid.__contains__  # noqa: E731
        labels = {label for key, label in db.execute("SELECT key, label FROM cells WHERE status = 'done'") if in_grid(key)}
        for label in (a, b):
            if label not in labels:
                close = difflib.get_close_matches(label, sorted(labels), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; finished methods: {sorted(labels)}"
                raise ValueError(f"{db_path}: no finished cells of method {label!r} in the latest run's grid{hint}")
        rows = [r for r in db.execute(
            "SELECT c.key, c.task, c.model, c.scale, c.ratio, c.seed, c.label, c.kind, m.name, m.value"
            " FROM cells c JOIN metrics m ON m.cell = c.key"
            " WHERE c.status = 'done' AND (c.label IN (?, ?) OR c.kind = 'retrain')", (a, b)) if in_grid(r["key"])]
    except sqlite3.DatabaseError as exc:  # a damaged or foreign file: one line, not a traceback
        raise ValueError(f"{db_path}: not a readable mubench results database ({exc})") from None
    finally:
        db.close()

    # values[(name, pair key)][side] = value; side "a", "b" or "retrain" (averaged over retrain variants)
    values: dict[tuple[str, tuple], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if metrics is not None and r["name"] not in metrics and r["name"].split("/", 1)[0] not in metrics:
            continue
        key = tuple(r[k] for k in PAIR_KEY)
        if r["value"] is None:
            continue
        if r["label"] == a:
            values[r["name"], key]["a"].append(r["value"])
        if r["label"] == b:
            values[r["name"], key]["b"].append(r["value"])
        if r["kind"] == "retrain":
            values[r["name"], key]["retrain"].append(r["value"])

    groups: dict[tuple, dict[str, list[tuple[float, float, float | None]]]] = defaultdict(lambda: defaultdict(list))
    for (name, key), sides in values.items():
        if not sides["a"] or not sides["b"]:
            continue
        ref = sum(sides["retrain"]) / len(sides["retrain"]) if sides["retrain"] else None
        group = tuple(dict(zip(PAIR_KEY, key))[g] for g in by)
        groups[group][name].append((sides["a"][0], sides["b"][0], ref))

    out: list[dict[str, Any]] = []
    for group in sorted(groups):
        for name in sorted(groups[group]):
            pairs = groups[group][name]
            direction = _direction(name, directions)
            compared = "value"
            if direction == "closer-to-retrain":
                with_ref = [(abs(x - r), abs(y - r)) for x, y, r in pairs if r is not None]
                if with_ref:
                    xs, ys, compared, better_is = [p[0] for p in with_ref], [p[1] for p in with_ref], "distance to retrain", "lower"
                else:
                    xs, ys, better_is = [p[0] for p in pairs], [p[1] for p in pairs], None
            else:
                xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
                better_is = direction if direction in ("higher", "lower") else None
            test = paired_test(xs, ys)
            if test is None:
                continue
            better = None
            if better_is is not None:
                sign = test.mean_diff if better_is == "higher" else -test.mean_diff
                better = a if sign > 0 else b if sign < 0 else "tie"
            out.append({**dict(zip(by, group)), "metric": name, "direction": direction, "compared": compared,
                        "n": test.n, f"mean {a}": test.mean_a, f"mean {b}": test.mean_b, "mean diff": test.mean_diff,
                        "t p": test.t_p, "wilcoxon p": test.wilcoxon_p if test.wilcoxon_na is None else test.wilcoxon_na,
                        "better": better})
    return out


def compare_table(rows: list[dict[str, Any]], a: str, b: str, *, tablefmt: str = "github") -> str:
    """The rows of :func:`compare` as a table; distances to retrain are marked, n/a tests print as n/a."""
    from tabulate import tabulate

    if not rows:
        return f"no metric has a finished pair of cells for {a!r} and {b!r}"

    def fmt(v):
        if v is None:
            return "n/a"
        return f"{v:.4g}" if isinstance(v, float) else v

    header = (f"Paired comparison {a} vs {b} over the latest grid's cells (t: paired t-test; Wilcoxon signed-rank, "
              f"n/a where so few pairs can never reach p < {ALPHA:g}; two-sided p)\n")
    return header + tabulate([{k: fmt(v) for k, v in r.items()} for r in rows], headers="keys", tablefmt=tablefmt)
