"""Shared pieces of the single-text classification tasks (IMDB, DDI-2013).

Texts are tokenised once to a fixed ``args.max_length`` (right padding); each batch is trimmed to its
longest text, so short batches cost short forward passes.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from .contracts import Built, ClassificationTask
from .data import Rows, column_values

TEXT_INPUTS = ("input_ids", "attention_mask")


def trim_padding(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cut right padding shared by the whole batch (the model sees the same tokens, fewer pads)."""
    if "attention_mask" not in batch:
        return batch
    longest = int(batch["attention_mask"].sum(1).max().clamp(min=1))
    return {k: (v[:, :longest] if k in TEXT_INPUTS else v) for k, v in batch.items()}


class TextClassificationTask(ClassificationTask):
    """A classification task on one text column and an integer ``label`` column. Subclasses set
    ``name`` (for errors), ``text_column`` and ``num_classes`` and implement :meth:`load_mini` and
    :meth:`load_hub`."""

    name: ClassVar[str]
    text_column: ClassVar[str] = "text"

    def __init__(self, args):
        super().__init__(args)
        self.last_source: str | None = None  # tiny tokenizers are fitted on this source's corpus
        self._train_texts: dict[str, list[str]] = {}  # source -> training texts, read once per task object

    def load(self, source: str):
        if source not in ("mini", "hub"):
            raise ValueError(f"{self.name}: unknown source {source!r} (hub or mini)")
        self.last_source = source
        data = self.load_mini() if source == "mini" else self.load_hub()
        self._train_texts.pop(source, None)
        self._loaded = (source, data["train"])
        return data

    def load_mini(self):
        """The generated mini DatasetDict (``train``, ``test``, optionally ``ood``)."""
        raise NotImplementedError

    def load_hub(self):
        """The real dataset, from ``args.hub_id`` or the local mirror ``args.path``, in the mini's schema."""
        raise NotImplementedError

    def tokenizer_corpus(self, source: str) -> list[str]:
        # the texts of the training split just loaded, not a second load of the whole dataset
        if source not in self._train_texts:
            loaded = getattr(self, "_loaded", None)
            train = loaded[1] if loaded is not None and loaded[0] == source else self.load(source)["train"]
            self._train_texts[source] = column_values(train, self.text_column)
        return self._train_texts[source]

    def encode(self, dataset, built: Built) -> Rows:
        tok = built.processor
        if tok is None:
            raise ValueError(f"{self.name} needs a tokenizer: the model family must provide one as its processor")
        enc = tok(column_values(dataset, self.text_column), padding="max_length", truncation=True, max_length=self.args.max_length,
                  return_tensors="pt")
        return Rows({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                     "labels": torch.tensor(np.asarray(column_values(dataset, "label"), dtype=np.int64))})

    def prepare_batch(self, batch, built):
        return trim_padding(batch)

    def model_inputs(self, batch):
        # only ids and mask: single-segment inputs, and DistilBERT takes no token_type_ids
        return {k: v for k, v in trim_padding(batch).items() if k in TEXT_INPUTS}
