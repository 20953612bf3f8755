"""The PEFT report section on synthetic results stores: each variant's trainable fraction is read from
the run's resolved arguments (no ``lora`` = 100 %) or, for a LoRA given by rank, from the fraction its
cell reached; Df drops are paired by seed; the minimum fraction and the paper's 50 % finding follow the
printed rule in each of its branches. One small real run checks that a benchmark's labelled variants
come back with their fractions (and their curriculum, for the curriculum section)."""
from __future__ import annotations

import json

import pytest

from mubench_harness.cli import main
from mubench_harness.report import load_results
from mubench_harness.report.analyses.peft import peft_rows, peft_verdict
from mubench_harness.store import CellRecord, Store

ORIGINAL = {0: (1.0, 0.80), 1: (0.98, 0.82)}  # seed -> (Df score, test score)
#: fraction % -> seed -> (Df, test): the paper's picture; below 50 % Df stays at the original's, from
#: 50 % on it falls as far as full fine-tuning's; the test score barely moves
PAPER = {1: {0: (1.0, 0.80), 1: (0.97, 0.81)}, 10: {0: (0.99, 0.80), 1: (0.97, 0.81)},
         25: {0: (0.97, 0.79), 1: (0.96, 0.80)}, 50: {0: (0.52, 0.79), 1: (0.50, 0.80)},
         100: {0: (0.50, 0.78), 1: (0.48, 0.80)}}


def lora(fraction):
    return None if fraction == 100 else {"trainable_fraction": fraction / 100, "rank": None}


def store(folder, methods: dict[str, dict], resolved: dict | None = None, notes=lambda label, f: {}) -> None:
    """``methods``: method -> fraction -> seed -> (Df, test); one label per (method, fraction)."""
    s = Store(folder / "results.db")
    if resolved is None:
        resolved = {f"{m}-{f}": {"lr": 0.001, "lora": lora(f), "curriculum": None} for m, fs in methods.items() for f in fs}
    run, keys = s.start_run({"resolved_args": {"unlearners": resolved}}, []), []
    cells = [("original", "original", "original", None, ORIGINAL)]
    cells += [("unlearned", m, f"{m}-{f}", f, v) for m, fs in methods.items() for f, v in fs.items()]
    for kind, name, label, f, values in cells:
        for seed, (df, test) in values.items():
            keys.append(f"{label}-{seed}")
            s.finish_cell(CellRecord(keys[-1], kind, "toy_blobs", "toy_mlp", "small", name, label, 10, seed, "done",
                                     notes=notes(label, f) if kind == "unlearned" else {},
                                     metrics={"forget/score": df, "test/score": test}), run)
    s.db.execute("UPDATE runs SET grid = ?", (json.dumps(keys),))
    s.db.commit()
    s.close()


def test_fractions_and_paired_drops(tmp_path):
    # LoRA's rank rounds: 1 % asked, 1.12 % reached (what the cell's notes record)
    store(tmp_path, {"randlabel": PAPER}, notes=lambda label, f: {"lora_fraction": 1.12 * f / 100} if f < 100 else {})
    (row,) = peft_rows(load_results(tmp_path))
    assert row.method == "randlabel" and [p.fraction for p in row.points] == [1, 10, 25, 50, 100]
    assert row.at(1).reached == pytest.approx(1.12) and row.at(100).reached == 100
    assert row.original_df.mean == pytest.approx(0.99)
    # 50 %: drops 1.0 − 0.52 and 0.98 − 0.50, paired by seed: 0.48 both, a point interval
    assert row.at(50).df_drop.mean == pytest.approx(0.48) and row.at(50).df_drop.ci_low == pytest.approx(0.48)
    # 1 %: drops 0 and 0.01
    assert row.at(1).df_drop.mean == pytest.approx(0.005) and row.at(1).test.mean == pytest.approx(0.805)


def test_each_branch_of_the_finding(tmp_path):
    def verdict(points, tolerance=0.05):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        store(folder, {"m": points})
        (row,) = peft_rows(load_results(folder))
        return peft_verdict(row, tolerance)

    v = verdict(PAPER)
    # 25 % ends 0.965 against 100 %'s 0.49 (> 0.49 + 0.05); 50 %'s 0.51 is within: the minimum is 50 %
    assert v.minimum == 50 and v.verdict == "supports" and all(v.parts.values())
    # 10 % already unlearns as far as full fine-tuning: the threshold is below 50 %
    early = {**PAPER, 10: {0: (0.52, 0.80), 1: (0.50, 0.81)}, 25: {0: (0.51, 0.80), 1: (0.49, 0.80)}}
    v = verdict(early)
    assert v.minimum == 10 and v.verdict == "does not support" and not v.parts["minimum ≥ 50 %"]
    # 25 % moves Df by 0.3 but not as far as 100 %: the minimum holds, "Df stays near the original" does not
    partial = {**PAPER, 25: {0: (0.70, 0.80), 1: (0.66, 0.80)}}
    v = verdict(partial)
    assert v.minimum == 50 and v.verdict == "partly supports" and v.parts == {
        "minimum ≥ 50 %": True, "Df near the original below 50 %": False, "test unaffected": True}
    # a test score that LoRA lowers by 0.1: part (c) fails
    hurt = {**PAPER, 1: {0: (1.0, 0.68), 1: (0.97, 0.69)}}
    assert verdict(hurt).parts["test unaffected"] is False
    # a looser tolerance moves the minimum down: 25 % (0.965) is within 0.48 of 0.49, 10 % (0.98) is not
    assert verdict(PAPER, tolerance=0.48).minimum == 25
    # full fine-tuning that removes nothing leaves nothing to compare against
    flat = {f: {0: (0.99, 0.8), 1: (0.98, 0.8)} for f in PAPER}
    assert verdict(flat).verdict.startswith("not testable (full fine-tuning lowers")
    # no run without LoRA
    assert verdict({f: v for f, v in PAPER.items() if f < 100}).verdict.startswith("not testable (no 100 %")


def test_rank_given_lora_reads_the_reached_fraction_and_variants_stay_apart(tmp_path):
    # neggrad at two learning rates, each with and without LoRA; the LoRA given by rank: its fraction is
    # the one the cell reached (notes), since the arguments name none
    methods = {"neggrad": {"a": {0: (0.9, 0.8)}, "b": {0: (0.5, 0.8)}, "c": {0: (0.95, 0.8)}, "d": {0: (0.4, 0.8)}}}
    resolved = {"neggrad-a": {"lr": 0.001, "lora": {"rank": 4, "trainable_fraction": None}},
                "neggrad-b": {"lr": 0.001, "lora": None},
                "neggrad-c": {"lr": 0.01, "lora": {"rank": 4, "trainable_fraction": None}},
                "neggrad-d": {"lr": 0.01, "lora": None}}
    store(tmp_path, methods, resolved, notes=lambda label, f: {"lora_fraction": 0.045, "lora_rank": 4}
          if label in ("neggrad-a", "neggrad-c") else {})
    rows = peft_rows(load_results(tmp_path))
    assert [r.method for r in rows] == ["neggrad (lr=0.001)", "neggrad (lr=0.01)"]
    assert [(p.fraction, p.df.mean) for p in rows[1].points] == [(pytest.approx(4.5), 0.95), (100, 0.4)]


def test_cli_section_plots_and_bad_input(tmp_path, capsys):
    store(tmp_path, {"randlabel": PAPER, "scrub": PAPER})
    out = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "peft", "--plots", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| fraction %" in text and "Finding (paper): unlearning cannot be achieved below about 50 %" in text
    assert "10 % randlabel: supports" in text and "- all rows: 2 supports" in text
    assert "\nRule: with tolerance 0.05, a fraction unlearns as full fine-tuning" in text
    assert (out / "peft-toy_blobs-toy_mlp-small-r10.png").stat().st_size > 5000
    assert main(["report", str(tmp_path), "--analysis", "peft", "--tolerance", "1"]) == 2
    assert "--tolerance must lie in [0, 1)" in capsys.readouterr().err
    # one fraction per method: nothing to plot against, one line and exit 2
    one = tmp_path / "one"
    one.mkdir()
    store(one, {"randlabel": {100: PAPER[100]}})
    assert main(["report", str(one), "--analysis", "peft"]) == 2
    assert "no method ran at two or more trainable fractions" in capsys.readouterr().err


@pytest.mark.slow  # ~35 s; in CI the analyses' mini files run and report both sections
@pytest.mark.needs_shipped_plugins
def test_a_real_run_gives_back_fractions_and_curriculum(tmp_path, capsys):
    """Labelled variants of one method in a benchmark file: the resolved arguments the run records say
    which is LoRA at what fraction and which runs SuperLoss; both sections read them."""
    (tmp_path / "b.yaml").write_text(f"""
name: variants
output_dir: {tmp_path / 'run'}
seeds: [0]
deletion_ratios: [10]
tasks: [{{name: toy_blobs, source: mini, args: {{n_train: 200, n_test: 100}}, models: [{{name: toy_mlp, scales: [small]}}]}}]
unlearners:
  - {{name: randlabel, label: rl-lora25, args: {{lora: {{trainable_fraction: 0.25}}}}}}
  - {{name: randlabel, label: rl-full}}
  - {{name: randlabel, label: rl-cl, args: {{curriculum: superloss}}}}
metrics: [performance]
optimizer: {{rule: paper, paper_lr: 0.001}}
budget: {{measure: flos}}
""")
    assert main(["run", str(tmp_path / "b.yaml"), "--no-progress"]) == 0
    capsys.readouterr()
    data = load_results(tmp_path / "run")
    (row,) = peft_rows(data)
    assert [p.fraction for p in row.points] == [25, 100]
    # rank round(0.25 · 69124 / 776) = 22: 22 · 776 / 69124 of the base parameters
    assert row.at(25).reached == pytest.approx(100 * 22 * 776 / 69124)
    assert main(["report", str(tmp_path / "run"), "--analysis", "curriculum"]) == 0
    text = capsys.readouterr().out
    assert "| randlabel " in text and "| Gap " in text and "all rows: " in text
