"""Implementation of the toy task and model (imports torch; loaded lazily through the specs)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..contracts import Built, ClassificationTask, ModelFamily, TrainRecipe, seeded
from ..data import Rows


class BlobsTask(ClassificationTask):
    recipe = TrainRecipe(epochs=40, lr=3e-3, batch_size=32, optimizer="adam")

    def __init__(self, args):
        super().__init__(args)
        self.num_classes = args.num_classes

    def _draw(self, n: int, rng: np.random.Generator, centres: np.ndarray, shift: float = 0.0):
        labels = rng.integers(0, self.num_classes, n)
        x = centres[labels] + rng.normal(0, self.args.spread, (n, self.args.dim)) + shift
        return x.astype(np.float32), labels

    def load(self, source: str):
        from datasets import Dataset, DatasetDict

        if source != "mini":
            raise ValueError(f"toy_blobs has only the 'mini' source, not {source!r}")
        rng = np.random.Generator(np.random.PCG64(self.args.data_seed))
        centres = rng.normal(0, 1.0, (self.num_classes, self.args.dim)) * 1.5
        splits = {}
        for name, n, shift in (("train", self.args.n_train, 0.0), ("test", self.args.n_test, 0.0), ("ood", self.args.n_test, 0.75)):
            x, y = self._draw(n, rng, centres, shift)
            splits[name] = Dataset.from_dict({"features": x.tolist(), "label": y.tolist()})
        return DatasetDict(splits)

    def encode(self, dataset, built):
        return Rows({
            "x": torch.tensor(np.asarray(dataset["features"], dtype=np.float32)),
            "labels": torch.tensor(np.asarray(dataset["label"], dtype=np.int64)),
        })


class _Out(NamedTuple):
    # a tuple, like transformers' ModelOutput a container DeepSpeed ZeRO-3 looks into: its backward hooks
    # re-gather the partitioned weights only for tensors it finds in a module's output
    logits: torch.Tensor


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, num_classes: int):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> _Out:
        return _Out(self.classifier(self.body(x)))


class MLPFamily(ModelFamily):
    widths = {"tiny": 64, "small": 256}

    def build(self, task, scale, *, init="pretrained", seed=0):
        # No pretrained weights exist for the toy MLP: its starting point is a seeded random init.
        with seeded(seed):
            model = MLP(task.args.dim, self.widths[scale], task.num_classes)
        return Built(model, None, {"scale": scale, "init": init})
