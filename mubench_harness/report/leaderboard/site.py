"""Write the static site: ``index.html`` (rankings), ``task-TASK.html`` (tables, plots, each setting's
method args, optimiser rule and seeds), ``analysis-NAME.html`` (the analyses the runs support),
``leaderboard.json`` and ``plots/``. Offline: no network resources; the sort script (``sort.js``,
package data) is inlined into every page."""
from __future__ import annotations

import json
from html import escape
from importlib.resources import files
from pathlib import Path

from ..load import ReportData
from ..plots import HEADLINE, write_plots
from ..table import GROUP, aggregate
from .analyses import analysis_file, write_analysis_pages
from .ranking import merge, ranking

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#eee;cursor:pointer}
td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd;margin:.3em 0}
.note{color:#555;font-size:.9em}pre{overflow-x:auto}"""


def _page(title: str, body: str) -> str:
    script = files(__package__).joinpath("sort.js").read_text(encoding="utf-8")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style><script>{script}</script></head><body>\n{body}\n</body></html>\n")


def _num(value: float | None, href: str | None = None) -> str:
    if value is None:
        return "<td data-value=\"\">n/a</td>"
    text = f"{value:.4g}"
    inner = f"<a href=\"{escape(href)}\">{text}</a>" if href else text
    return f"<td data-value=\"{value!r}\">{inner}</td>"


def _task_file(task: str) -> str:
    return f"task-{task}.html"


def _ranking_table(table_id: str, entries: list[dict], link: str | None) -> str:
    head = "<tr><th>method</th><th>rank</th><th>score</th><th>test score</th><th>settings</th></tr>"
    body = "".join(f"<tr><td>{escape(e['method'])}</td><td data-value=\"{e['rank']}\">{e['rank']}</td>"
                   f"{_num(e['score'], link)}{_num(e['test'], link)}<td>{e['settings']}</td></tr>" for e in entries)
    return f"<table class=\"sortable\" id=\"{table_id}\"><thead>{head}</thead><tbody>{body}</tbody></table>"


def _index(board: dict, sources: list[str], analyses: list[tuple[str, str]] = ()) -> str:
    parts = ["<h1>MU-Bench leaderboard</h1>",
             f"<p class=\"note\">Runs: {escape(', '.join(sources))}. Ranked by <code>{board['score']}</code>: "
             f"{escape(board['formula'])}. Ties: {escape(board['tie_rule'])}. "
             "Click a column header to sort. The same ranking: <a href=\"leaderboard.json\">leaderboard.json</a>.</p>",
             "<h2>Overall</h2>", _ranking_table("rank-overall", board["overall"], None), "<h2>Per task</h2>"]
    for task, entries in board["by_task"].items():
        parts += [f"<h3><a href=\"{_task_file(task)}\">{escape(task)}</a></h3>",
                  _ranking_table(f"rank-task-{task}", entries, _task_file(task))]
    parts.append("<h2>Per architecture</h2>")
    for model, entries in board["by_architecture"].items():
        parts += [f"<h3>{escape(model)}</h3>", _ranking_table(f"rank-model-{model}", entries, None)]
    if analyses:  # only those some run folder supports (analyses.py)
        parts += ["<h2>Analyses</h2>", "<ul>" + "".join(
            f"<li><a href=\"{analysis_file(name)}\">{escape(name)}</a>: {escape(help)}</li>" for name, help in analyses)
            + "</ul>"]
    return _page("MU-Bench leaderboard", "\n".join(parts))


def _settings(data: ReportData, configs: list[dict], row: dict) -> dict:
    cells = [c for c in data.cells if c["status"] == "done" and all(c[k] == row[k] for k in GROUP)]
    args = {}
    for config in configs:
        args = (config.get("resolved_args") or {}).get("unlearners", {}).get(row["label"], args)
    rules = sorted({c["optimizer"] for c in cells if c["optimizer"]})
    return {"method args": args, "optimiser rule": [json.loads(r) for r in rules],
            "seeds": sorted(c["seed"] for c in cells)}


def _task_page(task: str, rows: list[dict], data: ReportData, configs: list[dict], plots: dict, out: Path) -> str:
    names = [m for m in HEADLINE if any(r["metrics"].get(m) is not None for r in rows)]
    head = "".join(f"<th>{escape(h)}</th>" for h in ("method", "model", "scale", "ratio %", "seeds", *names))
    body, settings = [], []
    for i, r in enumerate(rows):
        anchor = f"cell-{i}"
        body.append(f"<tr><td>{escape(r['label'])}</td><td>{escape(r['model'])}</td><td>{escape(r['scale'])}</td>"
                    f"<td data-value=\"{r['ratio']}\">{r['ratio']}</td><td>{r['seeds']}</td>"
                    + "".join(_num(None if r["metrics"].get(n) is None else r["metrics"][n].mean, f"#{anchor}") for n in names)
                    + "</tr>")
        settings.append(f"<h3 id=\"{anchor}\">{escape(r['label'])} · {escape(r['model'])} · {escape(r['scale'])} · "
                        f"{r['ratio']} %</h3><pre>{escape(json.dumps(_settings(data, configs, r), indent=2, sort_keys=True))}</pre>")
    figures = []
    for key, paths in plots.items():
        if key[0] == task:
            figures += [f"<img src=\"{p.relative_to(out).as_posix()}\" alt=\"{escape(p.stem)}\">" for p in paths if p.suffix == ".png"]
    parts = [f"<p><a href=\"index.html\">← leaderboard</a></p><h1>{escape(task)}</h1>",
             "<p class=\"note\">Means over seeds; each number links to its setting (method args, optimiser rule, seeds).</p>",
             f"<table class=\"sortable\" id=\"results\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
             "<h2>Plots</h2>", *figures, "<h2>Settings</h2>", *settings]
    return _page(f"{task} · MU-Bench leaderboard", "\n".join(parts))


def write_site(datas: list[ReportData], out: str | Path) -> Path:
    """Write the site for the run folders' results under ``out``; returns the index's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = merge(datas)
    configs = [d.config for d in datas if d.config]
    rows, _ = aggregate(data)
    board = ranking(rows)
    (out / "leaderboard.json").write_text(json.dumps(board, indent=2) + "\n", encoding="utf-8")
    plots = write_plots(data, out / "plots", formats=("png", "svg"))
    for task in sorted({r["task"] for r in rows}):
        page = _task_page(task, [r for r in rows if r["task"] == task], data, configs, plots, out)
        (out / _task_file(task)).write_text(page, encoding="utf-8")
    analyses = write_analysis_pages(datas, out, _page)
    index = out / "index.html"
    index.write_text(_index(board, [str(d.path.parent) for d in datas], analyses), encoding="utf-8")
    return index
