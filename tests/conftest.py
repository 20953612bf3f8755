"""Shared fixtures: the real tiny plugin distributions of ``tests/plugins`` made importable.

``install_plugins(*names)`` writes each distribution's ``.dist-info`` (METADATA + entry_points.txt,
read from its pyproject) into a fresh site folder, which is what ``pip install`` leaves behind, and
returns the folders to put on ``sys.path`` (in process) or ``PYTHONPATH`` (for a ``mubench``
subprocess). Faster than building wheels, and entry points are discovered exactly as after a pip
install.
"""
from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"
ROOT = Path(__file__).resolve().parents[1]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def write_distribution(folder: Path, site: Path) -> list[Path]:
    meta = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    name, version = meta["name"], meta["version"]
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    eps = meta.get("entry-points", {})
    lines = []
    for group, entries in eps.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return [folder / "src"]


@pytest.fixture
def install_plugins(tmp_path, monkeypatch):
    """``install_plugins("testkit", "broken")`` → the PYTHONPATH string; also active in this process."""

    def install(*names: str) -> str:
        site = tmp_path / "site"
        paths = [site]
        for name in names:
            paths += write_distribution(PLUGINS / f"mubench-plugin-{name}", site)
        for p in reversed(paths):
            monkeypatch.syspath_prepend(str(p))
        pythonpath = os.pathsep.join(str(p) for p in paths)
        monkeypatch.setenv("PYTHONPATH", pythonpath)
        return pythonpath

    return install


@pytest.fixture
def cli_env(monkeypatch):
    """Environment of a ``mubench`` subprocess: offline, one thread, this checkout importable."""

    def env(**extra: str) -> dict[str, str]:
        out = {**os.environ, **OFFLINE, **extra}
        out["PYTHONPATH"] = os.pathsep.join(p for p in (out.get("PYTHONPATH", ""), str(ROOT)) if p)
        return out

    return env


def mubench_cmd() -> list[str]:
    return [sys.executable, "-m", "mubench_harness.cli"]
