"""The curriculum report section on synthetic results stores: on/off is read from the run's resolved
arguments (else the cell's notes), the gap is non-CL − CL paired by seed (the paper's sign), the
per-task table averages the methods, and the paper's finding follows the printed rule in each branch."""
from __future__ import annotations

import json

import pytest

from mubench_harness.cli import main
from mubench_harness.report import load_results
from mubench_harness.report.analyses.curriculum import curriculum_rows, render_curriculum
from mubench_harness.store import CellRecord, Store

#: method -> (off, on) -> seed -> (Df, test). SuperLoss leaves randlabel's Df 0.10 higher (forgets less),
#: scrub's the same, neggrad's 0.08 lower (facilitates)
PAPER = {
    "randlabel": ({0: (0.30, 0.80), 1: (0.34, 0.82)}, {0: (0.40, 0.81), 1: (0.44, 0.82)}),
    "scrub": ({0: (0.60, 0.80), 1: (0.62, 0.80)}, {0: (0.61, 0.80), 1: (0.62, 0.79)}),
    "neggrad": ({0: (0.20, 0.50), 1: (0.24, 0.52)}, {0: (0.12, 0.50), 1: (0.16, 0.50)}),
}


def store(folder, tasks: dict[str, dict], *, config=True) -> None:
    s = Store(folder / "results.db")
    resolved = {f"{m}{suffix}": {"lr": 0.001, "lora": None, "curriculum": cl}
                for m in {m for t in tasks.values() for m in t}
                for suffix, cl in (("", None), ("-cl", {"kind": "superloss", "lam": 1.0, "ema": 0.9}))}
    run, keys = s.start_run({"resolved_args": {"unlearners": resolved}} if config else {}, []), []
    for task, methods in tasks.items():
        for m, (off, on) in methods.items():
            for label, values in ((m, off), (f"{m}-cl", on)):
                notes = {"curriculum": resolved[label]["curriculum"]} if resolved[label]["curriculum"] else {}
                for seed, (df, test) in values.items():
                    keys.append(f"{task}-{label}-{seed}")
                    s.finish_cell(CellRecord(keys[-1], "unlearned", task, "toy_mlp", "small", m, label, 10, seed, "done",
                                             notes=notes, metrics={"forget/score": df, "test/score": test}), run)
    s.db.execute("UPDATE runs SET grid = ?", (json.dumps(keys),))
    s.db.commit()
    s.close()


@pytest.mark.parametrize("config", [True, False], ids=["resolved-args", "notes"])
def test_gap_is_off_minus_on_paired_by_seed(tmp_path, config):
    store(tmp_path, {"toy_blobs": PAPER}, config=config)
    rows = {r.method: r for r in curriculum_rows(load_results(tmp_path))}
    assert set(rows) == set(PAPER)
    rl = rows["randlabel"]
    assert rl.df_off.mean == pytest.approx(0.32) and rl.df_on.mean == pytest.approx(0.42)
    # −0.10 in both seeds: a point interval (unpaired means would carry the seeds' spread)
    assert rl.df_gap.mean == pytest.approx(-0.10) and rl.df_gap.ci_high == pytest.approx(-0.10)
    assert rl.test_gap.mean == pytest.approx(-0.005)
    assert rows["neggrad"].df_gap.mean == pytest.approx(0.08)


def test_the_papers_gap_table_and_each_branch(tmp_path):
    # a second task where SuperLoss facilitates forgetting for two of three methods
    other = {"randlabel": (PAPER["randlabel"][0], {0: (0.20, 0.8), 1: (0.24, 0.8)}),
             "scrub": (PAPER["scrub"][0], {0: (0.50, 0.8), 1: (0.52, 0.8)}), "neggrad": PAPER["neggrad"]}
    store(tmp_path, {"toy_blobs": PAPER, "other": other})
    text = render_curriculum(load_results(tmp_path), 0.05)
    table = text[text.index("The paper's gap table"):text.index("Finding (paper)")]
    # toy_blobs: Non-CL (0.32 + 0.61 + 0.22)/3, CL (0.42 + 0.615 + 0.14)/3, Gap (−0.10 − 0.005 + 0.08)/3
    assert "| Non-CL     | 0.3833" in table and "| 0.3917" in table and "| -0.008333" in table
    assert "| Ave" in table
    assert "toy_blobs/toy_mlp/small 10 %: supports (of 3 methods, SuperLoss forgets less in 1, the same in 1, more in 1)" in text
    assert "other/toy_mlp/small 10 %: does not support (of 3 methods, SuperLoss forgets less in 0, the same in 0, more in 3)" in text
    assert "- all rows: does not support (of 6 methods, SuperLoss forgets less in 1, the same in 1, more in 4)" in text
    # a tolerance of 0.15 calls every gap "the same": the claim (no facilitation in most) then holds everywhere
    assert "- all rows: supports (of 6 methods, SuperLoss forgets less in 0, the same in 6, more in 0)" in \
        render_curriculum(load_results(tmp_path), 0.15)


def test_cli_section_plots_and_bad_input(tmp_path, capsys):
    store(tmp_path, {"toy_blobs": PAPER})
    out = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "curriculum", "--plots", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| Df gap " in text and "\nRule: with tolerance 0.05, per method SuperLoss forgets less" in text
    assert (out / "curriculum-toy_blobs-toy_mlp-small-r10.png").stat().st_size > 5000
    # only one side ran: nothing to pair, one line and exit 2
    half = tmp_path / "half"
    half.mkdir()
    store(half, {"toy_blobs": {m: (off, {}) for m, (off, on) in PAPER.items()}})
    assert main(["report", str(half), "--analysis", "curriculum"]) == 2
    assert "no method ran both with and without a curriculum" in capsys.readouterr().err
