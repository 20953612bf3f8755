"""Read a run folder's ``results.db`` into plain Python rows."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ReportData:
    path: Path
    #: one dict per cell: its key fields, status, seconds, flos, cut and ``metrics`` {name: value}
    cells: list[dict] = field(default_factory=list)
    #: the latest run's config (the benchmark as validated), ``None`` for an empty database
    config: dict | None = None
    versions: dict = field(default_factory=dict)


def load_results(folder: str | Path, *, only_latest_grid: bool = True, keys: list[str] | None = None) -> ReportData:
    """Cells of the run folder. With ``only_latest_grid``, only the cells the latest run's benchmark
    defines (a benchmark edited between runs leaves its old cells in the database, unreported);
    ``keys`` selects exactly those cells instead (``mubench run`` reports its own grid)."""
    path = Path(folder) / "results.db"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results database (run `mubench run` first)")
    # read-only: reporting never changes the database
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        run = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        grid = set(keys) if keys is not None else set(json.loads(run["grid"])) if run is not None and only_latest_grid else None
        metrics: dict[str, dict[str, float | None]] = {}
        for r in db.execute("SELECT cell, name, value FROM metrics"):
            metrics.setdefault(r["cell"], {})[r["name"]] = r["value"]
        cells = []
        for r in db.execute("SELECT * FROM cells ORDER BY rowid"):
            if grid is not None and r["key"] not in grid:
                continue
            cell = {k: r[k] for k in r.keys()}
            cell["notes"] = json.loads(cell["notes"]) if cell["notes"] else {}
            cell["metrics"] = metrics.get(r["key"], {})
            cells.append(cell)
        return ReportData(path, cells, json.loads(run["config"]) if run else None, json.loads(run["versions"]) if run else {})
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path}: not a mubench results database ({exc})") from None
    finally:
        db.close()
