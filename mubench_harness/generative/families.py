"""Family-side helpers for generative models: the tiny scales' offline tokenizer, fitted on the task's
own corpus and shared by the config (its vocabulary size) and the processor, and the text-generation
family built on it."""
from __future__ import annotations

from typing import Any

from ..contracts import Task
from ..hf import HFFamily, word_tokenizer


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


class TextGenerationFamily(TinyTokenizerMixin, HFFamily):
    """A text-generation family on an Auto class with a language-model head (LLaMA, T5): real scales
    load the hub config and tokenizer; the tiny config takes its vocabulary size and special-token ids
    from the tiny tokenizer (:meth:`tiny_token_ids`)."""

    def head_kwargs(self, task):
        return {}  # a language-model head: no class count

    def tiny_token_ids(self, tok) -> dict[str, Any]:
        """The tiny config's special-token ids (default: padding and end of sequence)."""
        return {"pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id}

    def config(self, task, scale, hub_id):
        if hub_id is not None:
            return super().config(task, scale, hub_id)
        from transformers import AutoConfig

        tok = self.tiny_tokenizer(task)
        kwargs = dict(self.tiny_config)
        return AutoConfig.for_model(kwargs.pop("model_type"), vocab_size=len(tok), **self.tiny_token_ids(tok), **kwargs)

    def processor(self, task, scale, hub_id):
        if hub_id is None:
            return self.tiny_tokenizer(task)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(hub_id)
