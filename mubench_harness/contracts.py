"""The runtime contracts of Task, Model family and Unlearner (DESIGN.md §3).

A plugin's spec points at a subclass of one of these. They import torch, so only the lazy factories
(never a plugin's top module) import this file.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from pydantic import BaseModel

from .data import Rows
from .specs import TrainRecipe  # torch-free: task specs declare recipes too

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

    from .context import UnlearnContext


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's CPU RNG inside the block only (model initialisation), restoring it afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@dataclass
class Built:
    """A model with what feeds it. ``processor`` is a tokenizer / feature extractor, or ``None``."""

    model: torch.nn.Module
    processor: Any = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outputs:
    """What distillation methods compare. ``values``: class logits [B, C], token logits [B, T, V]
    with ``mask`` [B, T] marking target tokens, or predicted noise (``kind='noise'``)."""

    values: torch.Tensor
    mask: torch.Tensor | None = None
    kind: str = "logits"


class Task:
    """A dataset and its task-specific primitives; one method implementation serves every task."""

    kind: ClassVar[str] = "classification"
    recipe: ClassVar[TrainRecipe] = TrainRecipe()
    #: column of the raw dataset used to stratify deletion sets (``None``: plain random)
    stratify_column: ClassVar[str | None] = "label"

    def __init__(self, args: BaseModel):
        self.args = args

    # -- data -------------------------------------------------------------------------------------
    def load(self, source: str) -> DatasetDict:
        """Return ``train``, ``test`` and optionally ``ood`` splits. ``source``: ``hub`` or ``mini``."""
        raise NotImplementedError

    def encode(self, dataset: Dataset, built: Built) -> Rows:
        """Turn raw rows into aligned tensors (``labels`` plus the model's inputs)."""
        raise NotImplementedError

    def tokenizer_corpus(self, source: str) -> list[str] | None:
        """Texts a tiny model's offline tokenizer is fitted on (text tasks); ``None``: no text."""
        return None

    def prepare_batch(self, batch: dict[str, torch.Tensor], built: Built) -> dict[str, torch.Tensor]:
        """On-the-fly per-batch transform (e.g. image resizing at real scale). Default: none."""
        return batch

    def model_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v for k, v in batch.items() if k not in ("labels", "idx")}

    def chance(self, rows: Rows) -> float:
        """Chance-level performance: the majority-class rate (1/K on balanced data)."""
        counts = torch.bincount(rows["labels"])
        return float(counts.max()) / float(counts.sum())

    # -- primitives -------------------------------------------------------------------------------
    def per_sample_loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def sequence_nll(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B] summed NLL of each sample's target (NPO's ℓ). Classification: the CE itself."""
        return self.per_sample_loss(model, batch)

    def outputs(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Outputs:
        raise NotImplementedError

    def corrupt(self, forget: Rows, pool: Rows, generator: torch.Generator, include_true: bool = False) -> Rows:
        """RandLabel's corruption of Df, drawn once per run: a uniformly random *other* label (or a
        different sample's target from ``pool`` for generation)."""
        raise NotImplementedError

    def score(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-sample performance in [0, 1]."""
        raise NotImplementedError

    def signals(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-sample ``loss``, ``score``, ``p_true``, ``entropy``, ``margin`` from ONE forward pass."""
        raise NotImplementedError


class ClassificationTask(Task):
    """Shared primitives of every classification task: the model returns ``.logits`` [B, C]."""

    num_classes: int = 2

    def logits(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return model(**self.model_inputs(batch)).logits

    def per_sample_loss(self, model, batch):
        return F.cross_entropy(self.logits(model, batch), batch["labels"], reduction="none")

    def outputs(self, model, batch):
        return Outputs(self.logits(model, batch))

    def score(self, model, batch):
        return (self.logits(model, batch).argmax(-1) == batch["labels"]).float()

    def corrupt(self, forget, pool, generator, include_true=False):
        labels = forget["labels"]
        k = self.num_classes
        if include_true:  # SalUn's code: uniform over all classes
            new = torch.randint(0, k, labels.shape, generator=generator)
        else:  # uniform over the K-1 other classes: draw from 0..K-2 and skip the true label
            new = torch.randint(0, k - 1, labels.shape, generator=generator)
            new = new + (new >= labels).long()
        return forget.replace(labels=new)

    def signals(self, model, batch):
        # computed in float64: in float32 a confidently right sample's loss rounds to exactly 0, so the
        # loss attack's low-FPR thresholds (and RMIA's ratios) tie on many rows. Returned as float32, which
        # holds such tiny losses (down to 1e-38) once the cancellation has been done in float64.
        logits = self.logits(model, batch).double()
        labels = batch["labels"]
        logp = logits.log_softmax(-1)
        p = logp.exp()
        true_logit = logits.gather(1, labels[:, None]).squeeze(1)
        other = logits.scatter(1, labels[:, None], float("-inf")).max(-1).values
        out = {
            "loss": -logp.gather(1, labels[:, None]).squeeze(1),
            "score": (logits.argmax(-1) == labels),
            "p_true": p.gather(1, labels[:, None]).squeeze(1),
            "entropy": -(p * logp).nan_to_num().sum(-1),
            "margin": true_logit - other,
        }
        return {name: value.float() for name, value in out.items()}


class ModelFamily:
    """Maps (task, scale) to a built model. Real scales load their hub id; ``tiny`` builds offline."""

    def __init__(self, spec):
        self.spec = spec

    def build(self, task: Task, scale: str, *, init: str = "pretrained", seed: int = 0) -> Built:
        """``init='pretrained'``: the original's starting weights (pretrained body, fresh seeded head;
        for a given model, the given checkpoint). ``init='random'``: a freshly initialised model of the
        same architecture (Bad-T's incompetent teacher), seeded."""
        raise NotImplementedError


class Unlearner:
    """An unlearning method: composes the loop, losses and batch sources; never writes its own loop."""

    def __init__(self, args: BaseModel):
        self.args = args

    def unlearn(self, ctx: UnlearnContext) -> torch.nn.Module:
        raise NotImplementedError
