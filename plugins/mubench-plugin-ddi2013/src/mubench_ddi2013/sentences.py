"""The offline mini source of DDI-2013: generated drug-label sentences with two drugs marked @DRUG$.

Sentences follow the corpus' DrugBank/MEDLINE style: each interaction type has its own cue phrases
(mechanism: pharmacokinetics; effect: a clinical consequence; advise: a recommendation; int: an
interaction stated without detail) and "false" pairs co-occur without an interaction. Some cue words
are shared between types, every sentence names an idiosyncratic third drug and patient group, and a
share of labels contradict the cues (label noise), so a model generalises from the cues yet fits its
training set better than the test set. Class shares follow the corpus' imbalance (int is rare).
"""
from __future__ import annotations

import numpy as np

DRUG = "@DRUG$"
CLASS_SHARES = (0.40, 0.18, 0.20, 0.14, 0.08)  # false, mechanism, effect, advise, int
TEMPLATES = {
    0: ("{d} and {d} were administered in separate study arms {ctx}",
        "patients received {d} ; others were treated with {d} {ctx}",
        "{d} , {d} and {x} are indicated for hypertension {ctx}",
        "no dose adjustment of {d} is described for {d} alone {ctx}"),
    1: ("{d} inhibits the metabolism of {d} by cyp3a4 {ctx}",
        "{d} increases the plasma concentrations of {d} {ctx}",
        "coadministration of {d} reduced the clearance of {d} {ctx}",
        "{d} decreases the absorption of {d} {ctx}"),
    2: ("concurrent use of {d} and {d} increased the risk of bleeding {ctx}",
        "{d} may potentiate the hypotensive effect of {d} {ctx}",
        "{d} with {d} resulted in serotonin syndrome {ctx}",
        "{d} enhances the sedative effects of {d} {ctx}"),
    3: ("{d} should not be coadministered with {d} {ctx}",
        "caution is advised when {d} is given with {d} {ctx}",
        "avoid combining {d} and {d} ; monitor closely {ctx}",
        "the dose of {d} should be reduced when starting {d} {ctx}"),
    4: ("{d} interacts with {d} {ctx}",
        "an interaction between {d} and {d} has been reported {ctx}",
        "{d} may interact with {d} {ctx}",
        "interactions of {d} with {d} are possible {ctx}"),
}
CONTEXTS = ("in elderly patients", "in healthy volunteers", "in a clinical trial", "during therapy",
            "in renal impairment", "in children", "in two case reports", "at steady state")
SYLLABLES = "pra zol vir mab tin cil dro xa fen lo sta nib mer ca tro".split()


def _made_up_drug(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=3)) + str(rng.choice(["ine", "ol", "ide", "an"]))


def generate_pairs(n: int, rng: np.random.Generator, label_noise: float) -> tuple[list[str], list[int]]:
    sentences, labels = [], []
    for _ in range(n):
        label = int(rng.choice(5, p=CLASS_SHARES))
        template = str(rng.choice(TEMPLATES[label]))
        ctx = f"{rng.choice(CONTEXTS)} taking {_made_up_drug(rng)}"
        sentences.append(template.format(d=DRUG, x=_made_up_drug(rng), ctx=ctx))
        if rng.random() < label_noise:
            label = int((label + rng.integers(1, 5)) % 5)  # any other type
        labels.append(label)
    return sentences, labels
