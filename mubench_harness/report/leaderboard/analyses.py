"""The paper's analyses on the leaderboard: ``analysis-NAME.html`` per analysis that at least one run
folder's results support, with each such folder's section (the text table and finding of
``mubench report DIR --analysis NAME``) and its plots. An analysis a folder cannot support (its
render raises ValueError: no OOD split, one ratio, no attacks named ...) is left out for that folder,
so a site over ordinary runs gains no empty pages."""
from __future__ import annotations

from html import escape
from pathlib import Path

from ..analyses import ANALYSES, render_analysis, write_analysis_plots
from ..load import ReportData


def analysis_file(name: str) -> str:
    return f"analysis-{name}.html"


def write_analysis_pages(datas: list[ReportData], out: Path, page) -> list[tuple[str, str]]:
    """Write the pages into ``out`` (plots under ``out/plots/analyses/<name>/<n>``, n the folder's place in
    ``datas``) with ``page(title, body)``; returns (name, help) of each page written, in registry order."""
    written = []
    for name, analysis in ANALYSES.items():
        sections = []
        for i, data in enumerate(datas):
            try:
                text = render_analysis(data, name)
            except ValueError:  # this folder's results do not support the analysis: no section
                continue
            folder = out / "plots" / "analyses" / name / str(i)
            pngs = [p for p in write_analysis_plots(data, name, folder) if p.suffix == ".png"]
            figures = "".join(f"<img src=\"{p.relative_to(out).as_posix()}\" alt=\"{escape(p.stem)}\">" for p in pngs)
            sections.append(f"<h2>{escape(str(data.path.parent))}</h2><pre>{escape(text)}</pre>{figures}")
        if sections:
            body = (f"<p><a href=\"index.html\">← leaderboard</a></p><h1>Analysis: {escape(name)}</h1>"
                    f"<p class=\"note\">{escape(analysis.help)}; as <code>mubench report DIR --analysis {name}</code> "
                    "prints it (default tolerance 0.05).</p>" + "\n".join(sections))
            (out / analysis_file(name)).write_text(page(f"{name} · MU-Bench leaderboard", body), encoding="utf-8")
            written.append((name, analysis.help))
    return written
