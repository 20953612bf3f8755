"""The core and every plugin as a user gets them: wheel + sdist, metadata that PyPI accepts, and
`pip install mubench-plugin-scrub` pulling the core in as a dependency, from a folder of distributions
exactly as it would from a package index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"  # tox-uv brings uv into the project's env
SOURCES = [ROOT, *sorted(p for p in (ROOT / "plugins").glob("mubench-plugin-*") if (p / "pyproject.toml").is_file())]

pytestmark = pytest.mark.skipif(not UV.exists(), reason=f"uv is not installed beside {sys.executable}")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for source in SOURCES:  # a PEP 517 build in an isolated env, sdist then a wheel built from it
        subprocess.run([str(UV), "build", "-q", "--out-dir", str(out), str(source)], check=True)
    return out


def test_every_distribution_builds_a_wheel_and_an_sdist_with_valid_metadata(dist):
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == len(SOURCES)
    names = {w.name.split("-")[0] for w in wheels}
    assert {"mubench_harness", "mubench_plugin_scrub", "mubench_plugin_cifar100"} <= names
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2 * len(SOURCES)


def test_pip_install_plugin_by_name_pulls_the_core_and_registers_it(dist, tmp_path):
    env = tmp_path / "env"
    subprocess.run([str(UV), "venv", "-q", "--seed", "--python", sys.executable, str(env)], check=True)
    python = env / "bin" / "python"
    # pip's own resolution, as a user's `pip install mubench-plugin-scrub` would do it against an index
    # holding our distributions: it must take the core from there (nothing else provides it)
    report = tmp_path / "report.json"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
                    "--find-links", str(dist), "--report", str(report), "mubench-plugin-scrub"], check=True)
    chosen = {item["metadata"]["name"]: item["download_info"]["url"] for item in json.loads(report.read_text())["install"]}
    assert "mubench-harness" in chosen and chosen["mubench-harness"].startswith(dist.as_uri())
    assert chosen["mubench-plugin-scrub"].startswith(dist.as_uri())
    assert not any(name.startswith("mubench-plugin-") and name != "mubench-plugin-scrub" for name in chosen)
    # the install itself (uv: the same resolution, hard-linked from its cache, seconds instead of minutes)
    links = [a for d in os.environ.get("PIP_FIND_LINKS", "").split() for a in ("--find-links", d)]
    subprocess.run([str(UV), "pip", "install", "-q", "--python", str(python), "--find-links", str(dist), *links,
                    "mubench-plugin-scrub"], check=True)
    listed = subprocess.run([str(env / "bin" / "mubench"), "list", "unlearners", "--json"],
                            capture_output=True, text=True, check=True)
    unlearners = {item["name"]: item["distribution"] for item in json.loads(listed.stdout)}
    assert unlearners["scrub"] == "mubench-plugin-scrub"
    assert "neggrad" not in unlearners  # only what was asked for (and the core's built-ins)
