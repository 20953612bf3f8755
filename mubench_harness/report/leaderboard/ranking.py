"""Ranking of unlearning methods by the MU-Bench overall score, overall, per task and per architecture."""
from __future__ import annotations

from ..load import ReportData

SCORE = "overall/score"
FORMULA = ("a method's score in a scope = the mean, over the scope's (task, model, scale, ratio) settings it ran, "
           "of its overall/score mean over seeds")
TIE_RULE = ("scores equal to 4 decimals tie; a tie is broken by the higher mean test/score, then by method name; "
            "tied methods share a rank only when both are equal")


def merge(datas: list[ReportData]) -> ReportData:
    """One report over several run folders; cells of the same setting in two folders pool their seeds."""
    merged = ReportData(datas[0].path, [c for d in datas for c in d.cells], datas[0].config, datas[0].versions)
    return merged


def _rank(rows: list[dict]) -> list[dict]:
    by_method: dict[str, list[dict]] = {}
    for r in rows:
        by_method.setdefault(r["label"], []).append(r)
    entries = []
    for label, mrows in by_method.items():
        scores = [r["metrics"][SCORE].mean for r in mrows if r["metrics"].get(SCORE) is not None]
        tests = [r["metrics"]["test/score"].mean for r in mrows if r["metrics"].get("test/score") is not None]
        if not scores:
            continue
        entries.append({"method": label, "score": sum(scores) / len(scores),
                        "test": sum(tests) / len(tests) if tests else None, "settings": len(scores)})
    entries.sort(key=lambda e: (-round(e["score"], 4), -(e["test"] if e["test"] is not None else float("-inf")), e["method"]))
    for i, e in enumerate(entries):
        prev = entries[i - 1] if i else None
        same = prev is not None and round(prev["score"], 4) == round(e["score"], 4) and prev["test"] == e["test"]
        e["rank"] = prev["rank"] if same else i + 1
    return entries


def ranking(rows: list[dict]) -> dict:
    """The leaderboard as JSON-ready data from :func:`..table.aggregate` rows (unlearned methods only:
    the original and retraining are references, not entries)."""
    unlearned = [r for r in rows if r["kind"] == "unlearned"]
    tasks = sorted({r["task"] for r in unlearned})
    models = sorted({r["model"] for r in unlearned})
    return {
        "score": SCORE, "formula": FORMULA, "tie_rule": TIE_RULE,
        "overall": _rank(unlearned),
        "by_task": {t: _rank([r for r in unlearned if r["task"] == t]) for t in tasks},
        "by_architecture": {m: _rank([r for r in unlearned if r["model"] == m]) for m in models},
    }
