"""The deletion-capacity report section on a small synthetic results store: the capacity is the largest
ratio whose mean test score is within the tolerance of the original's, its interval is Student-t over
seeds, and the paper's finding is checked by the printed rule (supported, contradicted, untestable)."""
from __future__ import annotations

import pytest

from mubench_harness.cli import main
from mubench_harness.report import load_results
from mubench_harness.report.analyses import capacity_rows, render_capacity
from mubench_harness.store import CellRecord, Store

ORIGINAL = 0.90
#: test score per (method, ratio), one value per seed: randlabel holds to 10 %, salun to 5 %, scrub to 1 %,
#: badt drops more than 0.05 already at 1 %
SCORES = {
    "randlabel": {1: (0.89, 0.90), 5: (0.88, 0.87), 10: (0.86, 0.87)},
    "salun": {1: (0.90, 0.89), 5: (0.86, 0.87), 10: (0.70, 0.72)},
    "scrub": {1: (0.88, 0.89), 5: (0.80, 0.81), 10: (0.75, 0.74)},
    "badt": {1: (0.80, 0.82), 5: (0.60, 0.62), 10: (0.50, 0.52)},
}


def store(folder, scores=SCORES) -> None:
    s = Store(folder / "results.db")
    keys = []
    run = s.start_run({}, [])
    for ratio in (1, 5, 10):
        for seed in (0, 1):
            cells = [("original", "original", ORIGINAL)] + [("unlearned", m, v[ratio][seed]) for m, v in scores.items()]
            for kind, name, test in cells:
                key = f"{name}-{ratio}-{seed}"
                keys.append(key)
                s.finish_cell(CellRecord(key, kind, "toy_blobs", "toy_mlp", "tiny", name, name, ratio, seed, "done",
                                         metrics={"test/score": test}), run)
    s.db.execute("UPDATE runs SET grid = ?", (__import__("json").dumps(keys),))
    s.db.commit()
    s.close()


def test_capacity_is_the_largest_ratio_within_tolerance(tmp_path):
    store(tmp_path)
    rows = {r.unlearner: r for r in capacity_rows(load_results(tmp_path), tolerance=0.05)}
    assert {m: r.capacity for m, r in rows.items()} == {"randlabel": 10, "salun": 5, "scrub": 1, "badt": None}
    rl = rows["randlabel"]
    assert rl.test.mean == pytest.approx(0.865) and rl.test.interval == "student-t"
    # t(1, 0.975) = 12.706; s = 0.00707: the interval is mean ± 12.706·s/√2
    assert rl.test.ci_high - rl.test.mean == pytest.approx(12.706 * 0.0070711 / 2 ** 0.5, rel=1e-3)
    assert rl.drop.mean == pytest.approx(0.035)
    # a looser tolerance moves the capacity out
    loose = {r.unlearner: r.capacity for r in capacity_rows(load_results(tmp_path), tolerance=0.2)}
    assert loose["scrub"] == 10 and loose["badt"] == 1


def test_finding_is_computed_from_the_numbers(tmp_path):
    store(tmp_path)
    text = render_capacity(load_results(tmp_path), 0.05)
    assert "toy_blobs/toy_mlp/tiny: supports" in text and "Rule:" in text
    # swap SCRUB and RandLabel: the same rule now contradicts the paper
    flipped = dict(SCORES, randlabel=SCORES["scrub"], scrub=SCORES["randlabel"])
    other = tmp_path / "flipped"
    other.mkdir()
    store(other, flipped)
    text = render_capacity(load_results(other), 0.05)
    assert "does not support (randlabel > scrub: no" in text
    # without Bad-T the claim cannot be tested
    third = tmp_path / "nobadt"
    third.mkdir()
    store(third, {k: v for k, v in SCORES.items() if k != "badt"})
    assert "not testable (no badt" in render_capacity(load_results(third), 0.05)


def test_cli_prints_the_section_and_rejects_bad_input(tmp_path, capsys):
    store(tmp_path)
    assert main(["report", str(tmp_path), "--analysis", "capacity", "--tolerance", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "capacity %" in out and "| randlabel" in out and "supports" in out
    assert main(["report", str(tmp_path), "--analysis", "capacity", "--tolerance", "1.5"]) == 2
    assert "--tolerance must lie in [0, 1)" in capsys.readouterr().err


def test_plots_are_written_with_the_section(tmp_path, capsys):
    store(tmp_path)
    out = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "capacity", "--plots", str(out)]) == 0
    png = out / "capacity-toy_blobs-toy_mlp-tiny.png"
    assert png.stat().st_size > 5000 and (out / "capacity-toy_blobs-toy_mlp-tiny.svg").is_file()
    assert "2 plot files" in capsys.readouterr().err


def test_robustness_section_compares_each_attack_with_retraining(tmp_path, capsys):
    s = Store(tmp_path / "results.db")
    run = s.start_run({}, [])
    keys = []
    # retrain: Df 0.5, nothing returns; "shallow" forgets as far but 4-bit rounding gives 0.3 back and
    # relearning 0.2; "deep" gives back no more than retraining
    for name, kind, int4, ret in (("retrain", "retrain", 0.5, 0.01), ("shallow", "unlearned", 0.8, 0.2),
                                  ("deep", "unlearned", 0.52, 0.03)):
        for seed in (0, 1):
            keys.append(f"{name}-{seed}")
            s.finish_cell(CellRecord(keys[-1], kind, "toy_blobs", "toy_mlp", "tiny", name, name, 10, seed, "done",
                                     metrics={"forget/score": 0.5, "robust/df_score_int8": 0.5, "robust/df_score_int4": int4,
                                              "robust/relearn_return": ret}), run)
    s.db.execute("UPDATE runs SET grid = ?", (__import__("json").dumps(keys),))
    s.db.commit()
    s.close()
    figs = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "robustness", "--plots", str(figs)]) == 0
    out = capsys.readouterr().out
    assert "10 % shallow: less robust than retraining (int4 rise, relearn return)" in out
    assert "10 % deep: as robust as retraining" in out
    # one figure per (task, model, scale, ratio): a panel per attack against retraining's + tolerance
    assert (figs / "robustness-toy_blobs-toy_mlp-tiny-r10.png").stat().st_size > 5000
    assert (figs / "robustness-toy_blobs-toy_mlp-tiny-r10.svg").is_file()
    # a run without the attacks: one line, exit 2
    empty = tmp_path / "plain"
    empty.mkdir()
    store(empty)
    assert main(["report", str(empty), "--analysis", "robustness"]) == 2
    assert "name them under metrics:" in capsys.readouterr().err


def test_leaderboard_has_a_page_per_supported_analysis(tmp_path):
    """The capacity store supports the capacity analysis (and scaling, transfer and robustness do not:
    no FLOs, no OOD score, no attacks): one analysis page, its table, finding and plot, linked from the index."""
    from mubench_harness.report.leaderboard import write_site

    store(tmp_path)
    index = write_site([load_results(tmp_path)], tmp_path / "site")
    site = index.parent
    assert sorted(p.name for p in site.glob("analysis-*.html")) == ["analysis-capacity.html"]
    page = (site / "analysis-capacity.html").read_text()
    assert "| randlabel" in page and "Finding (paper)" in page and "supports" in page
    assert "<img src=\"plots/analyses/capacity/0/capacity-toy_blobs-toy_mlp-tiny.png\"" in page
    assert (site / "plots/analyses/capacity/0/capacity-toy_blobs-toy_mlp-tiny.png").stat().st_size > 5000
    html = index.read_text()
    assert "<a href=\"analysis-capacity.html\">capacity</a>" in html and "analysis-transfer" not in html
