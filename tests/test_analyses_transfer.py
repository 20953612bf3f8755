"""The bias / transfer report section on a synthetic results store: the OOD change is the method's OOD
score minus the original's of the same seed, and the paper's finding (NegGrad moves the transfer score,
the other methods do not) is checked by the printed rule: supported, contradicted, untestable."""
from __future__ import annotations

import json

import pytest

from mubench_harness.cli import main
from mubench_harness.report import load_results
from mubench_harness.report.analyses.transfer import render_transfer, transfer_rows
from mubench_harness.store import CellRecord, Store

#: (OOD, test) per seed: the original's, and each method's. NegGrad loses 0.15 OOD; the others move it
#: by at most 0.02
ORIGINAL = {0: (0.70, 0.90), 1: (0.72, 0.92)}
METHODS = {
    "neggrad": {0: (0.55, 0.88), 1: (0.57, 0.90)},
    "randlabel": {0: (0.69, 0.89), 1: (0.71, 0.91)},
    "salun": {0: (0.71, 0.90), 1: (0.73, 0.91)},
    "scrub": {0: (0.70, 0.90), 1: (0.70, 0.92)},
    "badt": {0: (0.68, 0.89), 1: (0.72, 0.92)},
    "retrain": {0: (0.69, 0.90), 1: (0.70, 0.91)},
}


def store(folder, methods=METHODS, ood=True) -> None:
    s = Store(folder / "results.db")
    run, keys = s.start_run({}, []), []
    for name, values in {"original": ORIGINAL, **methods}.items():
        kind = name if name in ("original", "retrain") else "unlearned"
        for seed, (o, t) in values.items():
            keys.append(f"{name}-{seed}")
            metrics = {"test/score": t, **({"ood/score": o} if ood else {})}
            s.finish_cell(CellRecord(keys[-1], kind, "toy_blobs", "toy_mlp", "tiny", name, name, 10, seed, "done",
                                     metrics=metrics), run)
    s.db.execute("UPDATE runs SET grid = ?", (json.dumps(keys),))
    s.db.commit()
    s.close()


def test_ood_change_is_paired_by_seed(tmp_path):
    store(tmp_path)
    rows = {r.unlearner: r for r in transfer_rows(load_results(tmp_path))}
    assert "original" not in rows and set(rows) == set(METHODS)
    ng = rows["neggrad"]
    assert ng.original_ood.mean == pytest.approx(0.71) and ng.ood.mean == pytest.approx(0.56)
    # both seeds lose exactly 0.15: a paired change with zero spread, so its interval is a point
    assert ng.ood_change.mean == pytest.approx(-0.15) and ng.ood_change.ci_high == pytest.approx(-0.15)
    assert ng.test_change.mean == pytest.approx(-0.02)
    # scrub: +0.00 and −0.02 by seed; unpaired means would hide which seed moved
    assert rows["scrub"].ood_change.mean == pytest.approx(-0.01) and rows["scrub"].ood_change.std > 0


def test_finding_is_computed_from_the_numbers(tmp_path):
    store(tmp_path)
    text = render_transfer(load_results(tmp_path), 0.05)
    assert "| original OOD" in text and "Rule: holds where |mean OOD change| of neggrad > 0.05" in text
    assert "toy_blobs/toy_mlp/tiny 10 %: supports (neggrad changes OOD: yes" in text
    # a bound above NegGrad's 0.15 change: the same numbers no longer show NegGrad moving the OOD score
    assert "does not support (neggrad changes OOD: no" in render_transfer(load_results(tmp_path), 0.2)
    # RandLabel losing 0.1 of its OOD score contradicts "the others do not strongly change it"
    other = tmp_path / "randlabel"
    other.mkdir()
    store(other, dict(METHODS, randlabel={0: (0.60, 0.89), 1: (0.62, 0.91)}))
    assert "randlabel within: no" in render_transfer(load_results(other), 0.05)
    # without NegGrad there is nothing to test
    third = tmp_path / "noneggrad"
    third.mkdir()
    store(third, {k: v for k, v in METHODS.items() if k != "neggrad"})
    assert "not testable (no OOD change for neggrad" in render_transfer(load_results(third), 0.05)


def test_cli_section_plots_and_bad_input(tmp_path, capsys):
    store(tmp_path)
    out = tmp_path / "figs"
    assert main(["report", str(tmp_path), "--analysis", "transfer", "--plots", str(out)]) == 0
    assert "| neggrad" in capsys.readouterr().out
    png = out / "transfer-toy_blobs-toy_mlp-tiny-r10.png"
    assert png.stat().st_size > 5000 and png.with_suffix(".svg").is_file()
    # a run whose tasks have no OOD split: one line naming what is missing, exit 2
    plain = tmp_path / "plain"
    plain.mkdir()
    store(plain, ood=False)
    assert main(["report", str(plain), "--analysis", "transfer"]) == 2
    assert "no ood/score in these results" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--analysis", "transfer", "--tolerance", "-0.1"]) == 2
