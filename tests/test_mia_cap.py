"""MIA-efficacy's cap on the SVC's training rows: where it binds the cell's notes say so (SalUn fits on
every row), where it does not nothing is recorded and the value is the uncapped one."""
from __future__ import annotations

import numpy as np

from mubench_harness.metrics import Evaluation
from mubench_harness.metrics.builtin import EfficacyArgs
from mubench_harness.metrics.mia import MIAEfficacy


def sig(rng, n, centre):
    p = np.clip(rng.normal(centre, 0.1, n), 0, 1)
    return {"loss": -np.log(p + 1e-6), "score": (p > 0.5) * 1.0, "p_true": p, "entropy": 1 - p,
            "margin": p, "idx": np.arange(n)}


def evaluation():
    rng = np.random.default_rng(0)
    s = {"test": sig(rng, 60, 0.4), "retain": sig(rng, 60, 0.8), "forget": sig(rng, 20, 0.6)}
    return Evaluation(s, s)


def test_a_binding_cap_is_recorded_and_a_loose_one_is_not():
    ev = evaluation()
    full = MIAEfficacy(EfficacyArgs(max_per_class=60)).compute(ev)
    assert ev.definitions == {}  # every row fitted: nothing to say
    assert full == MIAEfficacy(EfficacyArgs()).compute(evaluation())  # the default cap (1000) does not bind
    ev = evaluation()
    capped = MIAEfficacy(EfficacyArgs(max_per_class=20)).compute(ev)
    assert set(capped) == set(full)
    for name in ("mia_efficacy/p_true", "mia_efficacy/entropy"):
        assert ev.definitions[name] == ("SVC fitted on a seeded sample of 20 of 60 members (Dr sample) and 20 of 60 "
                                        "non-members (test): max_per_class = 20")
