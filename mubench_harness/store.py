"""The results database: SQLite ``results.db`` in the run folder.

Each cell's outcome (status and every metric) is written in ONE transaction, so a ``kill -9`` at any
moment leaves each cell either absent, ``running`` (redone by the next run) or complete. The cell key
is the primary key: a cell is present at most once. Imports no torch.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    started   TEXT NOT NULL,
    finished  TEXT,
    config    TEXT NOT NULL,   -- the validated benchmark + every resolved argument (resolved_args), JSON
    grid      TEXT NOT NULL,   -- JSON list of the cell keys this run's benchmark defines
    versions  TEXT NOT NULL,   -- JSON {distribution: version} of the stack, the core and every plugin
    git       TEXT,            -- git revision of the source checkout, when there is one
    host      TEXT
);
CREATE TABLE IF NOT EXISTS cells (
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('unlearned', 'original', 'retrain')),
    task       TEXT NOT NULL,
    model      TEXT NOT NULL,
    scale      TEXT NOT NULL,
    unlearner  TEXT NOT NULL,
    label      TEXT NOT NULL,
    ratio      INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    run_id     INTEGER REFERENCES runs(id),
    started    TEXT,
    finished   TEXT,
    seconds    REAL,
    flos       REAL,
    cut        INTEGER,
    budget_seconds REAL,
    optimizer  TEXT,           -- JSON of the optimiser rule in force
    notes      TEXT,           -- JSON of what the method and the runner recorded
    error      TEXT,           -- traceback of a failed cell
    weights    TEXT            -- hash of the resulting model's weights (finds its cached signals)
);
CREATE TABLE IF NOT EXISTS metrics (
    cell   TEXT NOT NULL REFERENCES cells(key) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    value  REAL,               -- NULL: not applicable (n/a)
    PRIMARY KEY (cell, name)
);
"""

#: distributions whose versions every run records beside the plugins'
STACK = ("torch", "transformers", "datasets", "accelerate", "deepspeed", "diffusers", "peft", "pluggy",
         "pydantic", "mubench-harness")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class CellRecord:
    """Everything the runner stores about one finished (or failed) cell."""

    key: str
    kind: str
    task: str
    model: str
    scale: str
    unlearner: str
    label: str
    ratio: int
    seed: int
    status: str
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    flos: float | None = None
    cut: bool | None = None
    budget_seconds: float | None = None
    optimizer: dict[str, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    weights: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)


class BadDatabase(ValueError):
    """``results.db`` is not a readable mubench results database; ``str()`` is one line naming the file."""


def check_database(path: str | Path) -> None:
    """Raise :class:`BadDatabase` unless ``path`` is absent, empty, or an intact mubench database.

    Opened read-only, so a damaged file is left byte-for-byte as it was (the user may want to recover
    it); ``quick_check`` reads every page, which finds flipped bytes that a first query may miss."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BadDatabase(f"{path}: cannot open the results database ({exc})") from None
    try:
        check = db.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in check] != [("ok",)]:
            raise BadDatabase(f"{path}: the results database is damaged ({check[0][0]}); move it away to start afresh")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BadDatabase(f"{path}: not a readable results database ({exc}); move it away to start afresh") from None
    finally:
        db.close()
    if tables and not {"runs", "cells", "metrics"} <= tables:
        raise BadDatabase(f"{path}: an SQLite database but not a mubench results database "
                          f"(tables: {', '.join(sorted(tables))})")


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        check_database(self.path)  # before any write: a damaged file stays as it is
        # isolation_level=None: we open every transaction ourselves with BEGIN IMMEDIATE
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = FULL")
        if not self.db.execute("SELECT name FROM sqlite_master WHERE name='cells'").fetchone():
            with self.transaction():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)

    def close(self) -> None:
        self.db.close()

    def transaction(self):
        return _Transaction(self.db)

    # -- runs ---------------------------------------------------------------------------------------
    def start_run(self, config: dict[str, Any], grid: list[str]) -> int:
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO runs (started, config, grid, versions, git, host) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), json.dumps(config, sort_keys=True), json.dumps(grid), json.dumps(package_versions(), sort_keys=True),
                 git_revision(), f"{socket.gethostname()} ({platform.platform()})"),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (now(), run_id))

    # -- cells --------------------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        return {r["key"]: r["status"] for r in self.db.execute("SELECT key, status FROM cells")}

    def cell(self, key: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM cells WHERE key = ?", (key,)).fetchone()

    def mark_running(self, rec: CellRecord, run_id: int) -> None:
        """Claim a cell before its work starts: a kill leaves it ``running``, which a rerun redoes."""
        with self.transaction():
            self.db.execute("DELETE FROM metrics WHERE cell = ?", (rec.key,))
            self.db.execute(
                "INSERT OR REPLACE INTO cells (key, kind, task, model, scale, unlearner, label, ratio, seed, status, run_id, started)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (rec.key, rec.kind, rec.task, rec.model, rec.scale, rec.unlearner, rec.label, rec.ratio, rec.seed, run_id, rec.started or now()),
            )

    def finish_cell(self, rec: CellRecord, run_id: int) -> None:
        """The cell's status, facts and every metric, in one transaction."""
        dumps = lambda v: None if v is None else json.dumps(v, sort_keys=True, default=str)  # noqa: E731
        with self.transaction():
            self.db.execute("DELETE FROM metrics WHERE cell = ?", (rec.key,))
            self.db.execute(
                "INSERT OR REPLACE INTO cells (key, kind, task, model, scale, unlearner, label, ratio, seed, status, run_id,"
                " started, finished, seconds, flos, cut, budget_seconds, optimizer, notes, error, weights)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.key, rec.kind, rec.task, rec.model, rec.scale, rec.unlearner, rec.label, rec.ratio, rec.seed,
                 rec.status, run_id, rec.started, rec.finished or now(), rec.seconds, rec.flos,
                 None if rec.cut is None else int(rec.cut), rec.budget_seconds, dumps(rec.optimizer),
                 dumps(rec.notes), rec.error, rec.weights),
            )
            self.db.executemany(
                "INSERT INTO metrics (cell, name, value) VALUES (?, ?, ?)",
                [(rec.key, name, _real(value)) for name, value in sorted(rec.metrics.items())],
            )


def _real(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None  # NaN/inf: n/a


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def package_versions() -> dict[str, str]:
    """Versions of the stack and of every distribution that provides ``mubench`` entry points."""
    out: dict[str, str] = {}
    for name in STACK:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    for dist in metadata.distributions():
        if any(ep.group == "mubench" for ep in dist.entry_points):
            out[dist.metadata["Name"]] = dist.version
    return out


def git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if rev.returncode != 0:
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def open_store(output_dir: str | Path) -> Store:
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return Store(folder / "results.db")


def existing_store(output_dir: str | Path) -> Store:
    """Open a run folder's database for reading; a clear error when there is none."""
    path = Path(output_dir) / "results.db"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results database (run `mubench run` first)")
    if os.path.getsize(path) == 0:
        raise FileNotFoundError(f"{path}: empty results database")
    return Store(path)
