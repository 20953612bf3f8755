"""The scaling report section on a synthetic results store with hand-chosen FLOs: the cost slope vs the
deletion ratio, the Df-score fit on log10 FLOs and its residual, the speed of forgetting per
retrain-equivalent of compute, the scale order by the original's FLOs, and the paper's finding checked
by the printed rule (supported, contradicted, untestable)."""
from __future__ import annotations

import json
import math

import pytest

from mubench_harness.cli import main
from mubench_harness.report import load_results
from mubench_harness.report.analyses.scaling import render_scaling, scaling_rows
from mubench_harness.store import CellRecord, Store

RATIOS = (2, 6, 10)
#: retraining's FLOs per scale; "small" trains on 10x fewer FLOs than "base" (alphabetical order is the other way)
RETRAIN = {"small": 1e8, "base": 1e9}
BIG = {"small": 0, "base": 1}


def badt_df(flos: float) -> float:
    # exactly linear in log10 FLOs: the fit leaves no residual
    return 1.2 - 0.05 * math.log10(flos)


#: method -> (FLOs of a cell, its Df score) as functions of (scale, ratio); the original's Df is 1.0
METHODS = {
    "retrain": (lambda s, r: RETRAIN[s], lambda s, r: 0.5),
    "neggrad": (lambda s, r: 0.1 * RETRAIN[s], lambda s, r: (0.6, 0.4)[BIG[s]]),
    "randlabel": (lambda s, r: 0.25 * RETRAIN[s], lambda s, r: (0.5, 0.45)[BIG[s]]),
    "salun": (lambda s, r: 0.25 * RETRAIN[s], lambda s, r: (0.55, 0.5)[BIG[s]]),
    # Bad-T's cost grows with Df: 5 % of retraining per 1 % of Df
    "badt": (lambda s, r: 0.05 * r * RETRAIN[s], lambda s, r: badt_df(0.05 * r * RETRAIN[s])),
    # SCRUB: the same FLOs at every ratio but a Df score that jumps between them (its step switch)
    "scrub": (lambda s, r: 0.2 * RETRAIN[s], lambda s, r: {2: 0.7, 6: 0.9, 10: 0.8}[r] - 0.1 * BIG[s]),
}


def store(folder, methods=METHODS) -> None:
    s = Store(folder / "results.db")
    run, keys = s.start_run({}, []), []

    def put(name, kind, scale, ratio, flos, df):
        keys.append(f"{name}-{scale}-{ratio}")
        s.finish_cell(CellRecord(keys[-1], kind, "toy_blobs", "toy_mlp", scale, name, name, ratio, 0, "done", flos=flos,
                                 metrics={"forget/score": df, "test/score": 0.9}), run)

    for scale in RETRAIN:
        for ratio in RATIOS:
            put("original", "original", scale, ratio, 10 * RETRAIN[scale], 1.0)
            for name, (flos, df) in methods.items():
                put(name, "retrain" if name == "retrain" else "unlearned", scale, ratio, flos(scale, ratio), df(scale, ratio))
    s.db.execute("UPDATE runs SET grid = ?", (json.dumps(keys),))
    s.db.commit()
    s.close()


def test_cost_fit_and_speed_by_hand(tmp_path):
    store(tmp_path)
    per_scale, per_family = scaling_rows(load_results(tmp_path))
    scale = {(r.scale, r.unlearner): r for r in per_scale}
    badt = scale[("small", "badt")]
    # FLOs 1e7, 3e7, 5e7 at 2, 6, 10 %: 5e6 more per 1 % of Df, 50 % of the 2 % cell's cost
    assert badt.slope == pytest.approx(5e6) and badt.growth == pytest.approx(0.5)
    assert badt.share.mean == pytest.approx(0.3) and scale[("base", "neggrad")].slope == pytest.approx(0)
    fam = {r.unlearner: r for r in per_family}
    assert fam["badt"].points == 6 and fam["badt"].df_per_decade == pytest.approx(-0.05)
    assert fam["badt"].residual == pytest.approx(0, abs=1e-9) and fam["neggrad"].residual == pytest.approx(0, abs=1e-9)
    # SCRUB's Df at one FLO value spreads ±0.1 about its fit: residual sqrt(mean(0.1², 0.1², 0, ...)) = 0.0816
    assert fam["scrub"].residual == pytest.approx(math.sqrt(4 * 0.01 / 6))
    # speed = (1.0 − Df) / (FLOs / retrain FLOs): neggrad 0.4 / 0.1 and 0.6 / 0.1
    assert fam["neggrad"].speed.mean == pytest.approx(5.0)
    assert fam["scrub"].speed.mean == pytest.approx((0.3 + 0.1 + 0.2 + 0.4 + 0.2 + 0.3) / 6 / 0.2)
    expected = [(1 - badt_df(0.05 * r * RETRAIN[s])) / (0.05 * r) for s in RETRAIN for r in RATIOS]
    assert fam["badt"].speed.mean == pytest.approx(sum(expected) / 6)


def test_finding_is_computed_from_the_numbers(tmp_path):
    store(tmp_path)
    text = render_scaling(load_results(tmp_path))
    assert "toy_blobs/toy_mlp: supports (predictability > scrub: yes, neggrad, scrub faster than badt: yes, " \
           "badt costs most: yes" in text
    # scales are listed by the original's training FLOs, not by name
    lines = [ln for ln in text.splitlines() if ln.startswith("| toy_blobs | toy_mlp | small   | badt") or
             ln.startswith("| toy_blobs | toy_mlp | base    | badt")]
    assert "small" in lines[0] and "base" in lines[1]
    # a SCRUB whose Df follows its FLOs exactly: the predictability part fails
    steady = tmp_path / "steady"
    steady.mkdir()
    store(steady, dict(METHODS, scrub=(METHODS["scrub"][0], lambda s, r: (0.8, 0.7)[BIG[s]])))
    assert "does not support (predictability > scrub: no" in render_scaling(load_results(steady))
    # a Bad-T cheaper than RandLabel: the cost part fails
    cheap = tmp_path / "cheap"
    cheap.mkdir()
    store(cheap, dict(METHODS, badt=(lambda s, r: 0.01 * r * RETRAIN[s], METHODS["badt"][1])))
    assert "badt costs most: no" in render_scaling(load_results(cheap))
    # without SCRUB the claim cannot be tested
    third = tmp_path / "noscrub"
    third.mkdir()
    store(third, {k: v for k, v in METHODS.items() if k != "scrub"})
    assert "not testable (no fit or no speed for scrub" in render_scaling(load_results(third))


def test_cli_section_plots_and_bad_input(tmp_path, capsys):
    store(tmp_path)
    out = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "scaling", "--plots", str(out)]) == 0
    assert "RMS residual" in capsys.readouterr().out
    png = out / "scaling-toy_blobs-toy_mlp.png"
    assert png.stat().st_size > 5000 and png.with_suffix(".svg").is_file()
    # cells without counted FLOs (or no cells at all): one line, exit 2
    empty = tmp_path / "empty"
    empty.mkdir()
    store(empty, {})
    assert main(["report", str(empty), "--analysis", "scaling"]) == 2
    assert "with counted FLOs" in capsys.readouterr().err
