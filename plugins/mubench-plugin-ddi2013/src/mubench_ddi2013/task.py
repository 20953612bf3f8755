"""The DDI-2013 task (imports torch and datasets; loaded lazily through the spec's factory).

The task's schema is one row per drug pair: ``sentence`` with both drugs of the pair replaced by
``@DRUG$`` (the BLURB convention, so the model sees which pair is asked about) and ``label`` in
0..4 = false, mechanism, effect, advise, int. Score: accuracy; the literature's macro-F1 over the
four DDI types comes from :meth:`corpus_metrics` or the ``ddi_macro_f1`` metric on the ``pred`` /
``label`` signals this task adds.
"""
from __future__ import annotations

import functools
import re
from types import SimpleNamespace

import numpy as np

from mubench_harness.contracts import TrainRecipe
from mubench_harness.dataset_sources import load_hub_or_local
from mubench_harness.text_classification import TextClassificationTask

from . import RELATIONS
from .metric import macro_f1
from .sentences import DRUG, generate_pairs

#: spellings of the relation in known releases (DDI-false / NONE / negative ...) -> class id
ALIASES = {"false": 0, "none": 0, "negative": 0, "no": 0, "mechanism": 1, "effect": 2, "advise": 3, "advice": 3, "int": 4}


def relation_id(value, where: str) -> int:
    if isinstance(value, (int, np.integer)):
        if not 0 <= int(value) < len(RELATIONS):
            raise ValueError(f"ddi2013: {where}: label {value} outside 0..{len(RELATIONS) - 1}")
        return int(value)
    key = str(value).strip().lower().removeprefix("ddi-").removeprefix("ddi_")
    if key not in ALIASES:
        raise ValueError(f"ddi2013: {where}: unknown relation {value!r} (expected one of {', '.join(RELATIONS)})")
    return ALIASES[key]


def mark_drugs(sentence: str, drug1: str, drug2: str) -> str:
    """Replace the pair's two mentions by @DRUG$ (first mention of drug1, then of drug2 elsewhere)."""
    out = sentence
    for drug in (drug1, drug2):
        match = re.search(rf"(?<!\w){re.escape(drug)}(?!\w)", out, flags=re.IGNORECASE) if drug else None
        if match is None:  # mention not found verbatim (discontinuous names): name it up front
            out = f"{DRUG} ; {out}"
        else:
            out = out[: match.start()] + DRUG + out[match.end():]
    return out


def _features():
    from datasets import ClassLabel, Features, Value

    return Features({"sentence": Value("string"), "label": ClassLabel(names=list(RELATIONS))})


@functools.lru_cache(maxsize=4)
def _mini_dataset(n_train: int, n_test: int, label_noise: float, seed: int):
    from datasets import Dataset, DatasetDict

    rng = np.random.Generator(np.random.PCG64(seed))
    splits = {}
    for name, n in (("train", n_train), ("test", n_test)):
        sentences, labels = generate_pairs(n, rng, label_noise)
        splits[name] = Dataset.from_dict({"sentence": sentences, "label": labels}, features=_features())
    return DatasetDict(splits)


class Ddi2013Task(TextClassificationTask):
    name = "ddi2013"
    text_column = "sentence"
    recipe = TrainRecipe(epochs=8, lr=1e-3, batch_size=32, optimizer="adam")
    stratify_column = "label"

    def __init__(self, args):
        super().__init__(args)
        self.num_classes = len(RELATIONS)

    def load_mini(self):
        from datasets import DatasetDict

        a = self.args
        # a fresh dict of the shared immutable splits: a caller adding or dropping a split changes nothing here
        return DatasetDict(dict(_mini_dataset(a.mini_train, a.mini_test, a.mini_label_noise, a.mini_seed)))

    def load_hub(self):
        from datasets import DatasetDict

        a = self.args
        where = a.path or a.hub_id
        raw = load_hub_or_local(a.hub_id, a.path, task="ddi2013", splits=("train", "test"))
        return DatasetDict({name: self._real_schema(raw[name], f"{where}[{name}]") for name in ("train", "test")})

    @staticmethod
    def _real_schema(ds, where: str):
        """Map a release's columns onto (sentence with @DRUG$ marks, label id)."""
        from datasets import Dataset

        cols = ds.column_names
        text_col = next((c for c in ("sentence", "text") if c in cols), None)
        label_col = next((c for c in ("relation", "label") if c in cols), None)
        if text_col is None or label_col is None:
            raise ValueError(f"ddi2013: dataset {where!r} needs a sentence/text and a relation/label column (has {cols})")
        names = ds.features[label_col].names if hasattr(ds.features[label_col], "names") else None
        raw_labels = ds[label_col]
        labels = [relation_id(names[v] if names else v, where) for v in raw_labels]
        sentences = list(ds[text_col])
        if "drug1" in cols and "drug2" in cols:
            sentences = [mark_drugs(s, d1, d2) for s, d1, d2 in zip(sentences, ds["drug1"], ds["drug2"])]
        elif not all(s.count(DRUG) >= 2 for s in sentences[:100]):
            raise ValueError(f"ddi2013: dataset {where!r} has neither drug1/drug2 columns nor {DRUG} marks in its sentences")
        return Dataset.from_dict({"sentence": sentences, "label": labels}, features=_features())

    def signals(self, model, batch):
        # the shared signals plus the predicted and gold class, so corpus-level F1 can be computed
        # from signals; one forward pass: the shared code reads the logits computed here
        logits = self.logits(model, batch)
        out = super().signals(lambda **_: SimpleNamespace(logits=logits), batch)
        out["pred"] = logits.argmax(-1).float()
        out["label"] = batch["labels"].float()
        return out

    def corpus_metrics(self, labels, predictions) -> dict[str, float]:
        """Corpus-level metrics of a split: accuracy and macro-F1 over the four DDI types."""
        labels, predictions = np.asarray(labels), np.asarray(predictions)
        return {"accuracy": float((labels == predictions).mean()) if len(labels) else 0.0,
                "macro_f1": macro_f1(labels, predictions, negative_label=0, num_classes=self.num_classes)}
