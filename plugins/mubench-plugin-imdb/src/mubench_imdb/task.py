"""The IMDB task (imports torch and datasets; loaded lazily through the spec's factory).

Texts are tokenised once to a fixed ``max_length`` (right padding); each batch is trimmed to its
longest review, so short batches cost short forward passes (:mod:`mubench_harness.text_classification`).
"""
from __future__ import annotations

import functools

import numpy as np

from mubench_harness.contracts import TrainRecipe
from mubench_harness.dataset_sources import load_hub_or_local
from mubench_harness.text_classification import TextClassificationTask

from .reviews import generate_reviews, generate_snippets


@functools.lru_cache(maxsize=4)
def _mini_dataset(n_train: int, n_test: int, label_noise: float, seed: int):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    rng = np.random.Generator(np.random.PCG64(seed))
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    splits = {}
    for name, n in (("train", n_train), ("test", n_test)):
        texts, labels = generate_reviews(n, rng, label_noise)
        splits[name] = Dataset.from_dict({"text": texts, "label": labels}, features=feats)
    texts, labels = generate_snippets(n_test, rng)
    splits["ood"] = Dataset.from_dict({"text": texts, "label": labels}, features=feats)
    return DatasetDict(splits)


class ImdbTask(TextClassificationTask):
    name = "imdb"
    recipe = TrainRecipe(epochs=5, lr=1e-3, batch_size=32, optimizer="adam")
    stratify_column = "label"

    def __init__(self, args):
        super().__init__(args)
        self.num_classes = 2

    def load_mini(self):
        from datasets import DatasetDict

        a = self.args
        # a fresh dict of the shared immutable splits: a caller adding or dropping a split changes nothing here
        return DatasetDict(dict(_mini_dataset(a.mini_train, a.mini_test, a.mini_label_noise, a.mini_seed)))

    def load_hub(self):
        from datasets import DatasetDict, concatenate_datasets

        a = self.args
        where = a.path or a.hub_id
        raw = load_hub_or_local(a.hub_id, a.path, task="imdb", splits=("train", "test"))
        # stanfordnlp/imdb also has an 'unsupervised' split (label -1): not used
        out = {name: self._real_schema(raw[name], where) for name in ("train", "test")}
        if a.ood_path or a.ood_hub_id:
            ood_where = a.ood_path or a.ood_hub_id
            ood = load_hub_or_local(a.ood_hub_id, a.ood_path, task="imdb")
            if a.ood_split == "all":  # the MU-Bench authors' OOD set: every split, train then validation then test
                known = ("train", "validation", "test")
                order = [s for s in known if s in ood] + sorted(set(ood) - set(known))
                parts = [self._real_schema(ood[s], ood_where).cast(out["test"].features) for s in order]
                out["ood"] = concatenate_datasets(parts)
            elif a.ood_split not in ood:
                raise ValueError(f"imdb: OOD dataset {ood_where!r} has no split {a.ood_split!r} (has {sorted(ood)})")
            else:
                out["ood"] = self._real_schema(ood[a.ood_split], ood_where).cast(out["test"].features)
        return DatasetDict(out)

    @staticmethod
    def _real_schema(ds, where: str):
        for col in ("text", "label"):
            if col not in ds.column_names:
                raise ValueError(f"imdb: dataset {where!r} has no column {col!r} (columns: {ds.column_names})")
        ds = ds.select_columns(["text", "label"])
        bad = [v for v in set(ds["label"]) if v not in (0, 1)]
        if bad:
            raise ValueError(f"imdb: dataset {where!r} has labels {sorted(bad)} outside 0 (neg) / 1 (pos)")
        return ds
