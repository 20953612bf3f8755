"""Family-side helpers for generative models: the tiny scales' offline tokenizer, fitted on the task's
own corpus and shared by the config (its vocabulary size) and the processor."""
from __future__ import annotations

from typing import Any

from ..contracts import Task
from ..hf import word_tokenizer


class TinyTokenizerMixin:
    """For :class:`mubench_harness.hf.HFFamily` subclasses whose tiny scale has no hub tokenizer."""

    def tiny_tokenizer(self, task: Task) -> Any:
        source = getattr(task, "source", "mini")
        key = (type(task).__qualname__, source, repr(getattr(task, "args", None)))
        cache = self.__dict__.setdefault("_tiny_tokenizers", {})
        if key not in cache:  # fitting is deterministic; caching only saves re-reading the corpus
            corpus = task.tokenizer_corpus(source)
            if not corpus:
                raise ValueError(f"task {type(task).__name__} gives no tokenizer corpus for its tiny model")
            cache[key] = word_tokenizer(corpus)
        return cache[key]
