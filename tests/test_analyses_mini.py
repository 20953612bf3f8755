"""Every analysis's mini form (``benchmarks/analyses/*-mini.yaml``) runs offline on CPU and its report
section prints a table, the paper's finding with its rule, and writes its plots: the issue's "each mini
analysis runs offline in CI". The file name names the analysis: ``capacity-mini.yaml`` -> ``--analysis
capacity``. A new mini file joins by being there; each is sized to about a minute on one core (README,
Analyses, gives the measured times)."""
from __future__ import annotations

import subprocess

import pytest

from conftest import ROOT, mubench_cmd
from mubench_harness.cli import main

pytestmark = pytest.mark.needs_shipped_plugins  # the mini forms use shipped methods (and a mini task)

FILES = sorted((ROOT / "benchmarks" / "analyses").glob("*-mini.yaml"))


def test_every_analysis_has_a_mini_form():
    from mubench_harness.report.analyses import ANALYSES

    assert {"capacity", "robustness", "transfer", "scaling"} <= {p.stem.rsplit("-", 1)[0] for p in FILES}
    assert all(p.stem.rsplit("-", 1)[0] in ANALYSES for p in FILES), "a mini file names no registered analysis"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_mini_analysis_runs_and_reports(path, tmp_path, cli_env, capsys):
    name = path.stem.rsplit("-", 1)[0]
    # the run as a user starts it (its own process, offline); the report, read-only, in this process: a
    # second interpreter start would cost each file seconds of CI time and test nothing more
    run = subprocess.run([*mubench_cmd(), "run", str(path), "--output-dir", str(tmp_path / "run"), "--no-progress"],
                         capture_output=True, text=True, env=cli_env(), timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    plots = tmp_path / "plots"
    capsys.readouterr()
    code = main(["report", str(tmp_path / "run"), "--analysis", name, "--plots", str(plots)])
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    lines = out.splitlines()
    # a table: its header, the |---| rule under it, then at least one data row
    heads = [i for i, ln in enumerate(lines[:-2]) if ln.startswith("| ") and lines[i + 1].startswith("|--")]
    assert heads and lines[heads[0] + 2].startswith("| "), out[:2000]
    assert any(ln.startswith("Finding") for ln in lines) and any(ln.startswith("Rule:") for ln in lines)
    # the verdict lines the rule produced: supports, does not support, or not testable with why
    assert any(ln.startswith("- ") for ln in lines[next(i for i, ln in enumerate(lines) if ln.startswith("Rule:")):])
    pngs = sorted(plots.glob("*.png"))
    assert pngs and all(p.stat().st_size > 5000 and p.with_suffix(".svg").is_file() for p in pngs)
