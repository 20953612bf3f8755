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
from importlib import metadata
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


#: the plugin distributions this repository ships (tests marked ``needs_shipped_plugins`` use them)
SHIPPED = sorted(p.name for p in (ROOT / "plugins").glob("mubench-plugin-*") if (p / "pyproject.toml").is_file())


def pytest_collection_modifyitems(config, items):
    """Integration tests that run the shipped tasks, families and methods skip, saying why, where those
    plugins are not installed (tox's ``core`` env tests the core alone; ``.venv`` runs them all)."""
    marked = [item for item in items if item.get_closest_marker("needs_shipped_plugins")]
    if not marked:
        return
    installed = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
    missing = [name for name in SHIPPED if name not in installed]
    if missing:
        skip = pytest.mark.skip(reason=f"needs this repository's plugins ({len(missing)} not installed, "
                                       f"e.g. {missing[0]}); the .venv suite runs it")
        for item in marked:
            item.add_marker(skip)


def memorising_toy(n_test: int, retrain_seeds=(0,)):
    """Overlapping blobs (spread 2.5, 400 training rows) and the small MLP: the training set can only be
    fitted by memorising it, so Df scores ~1 on the original and membership is detectable. Returns the
    task, the built family, the encoded train/test/forget/retain rows (unified 10 % Df, split seed 42),
    the original, and one retrained model (same recipe on Dr from the starting weights) per seed."""
    from mubench_harness import testing
    from mubench_harness.splits import forget_indices, retain_indices

    task = testing.build_task("toy_blobs", spread=2.5, n_train=400, n_test=n_test)
    family = testing.build_family("toy_mlp")
    data = task.load("mini")
    built = family.build(task, "small", init="pretrained", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    f = forget_indices(len(train), 10, 42, data["train"]["label"])
    rows = {"train": train, "test": test, "forget": train.select(f), "retain": train.select(retain_indices(len(train), f))}
    original = testing.train_original(task, built, train, seed=0)
    retrains = [testing.train_original(task, family.build(task, "small", init="pretrained", seed=s), rows["retain"], seed=s)
                for s in retrain_seeds]
    return task, built, rows, original, retrains
