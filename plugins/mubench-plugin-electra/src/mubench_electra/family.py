"""electra family on transformers' Auto classes (loaded lazily through the spec's factory).

At ``tiny`` scale there is no hub tokenizer: an offline word-level tokenizer is fitted on the task's
training texts (of the source the task last loaded) and the tiny config's vocabulary is its size.
"""
from __future__ import annotations

from mubench_harness.hf import HFFamily, word_tokenizer


class ElectraFamily(HFFamily):
    auto_class = "transformers:AutoModelForSequenceClassification"
    #: 2 layers of width 32 (the vocabulary is the offline word tokenizer's)
    tiny_config = {
        "model_type": "electra", "embedding_size": 32, "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 512,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    }

    def __init__(self, spec):
        super().__init__(spec)
        #: (id of the task, source) -> (task, fitted tokenizer): config and processor share one tokenizer;
        #: the task is kept so a recycled id can never hand out another task's vocabulary
        self._tiny_tokenizers = {}

    def _tiny_tokenizer(self, task):
        source = getattr(task, "last_source", None) or "mini"
        key = (id(task), source)
        cached = self._tiny_tokenizers.get(key)
        if cached is None or cached[0] is not task:
            corpus = task.tokenizer_corpus(source)
            if not corpus:
                raise ValueError(f"task {type(task).__name__} gives no texts to fit a tiny tokenizer on")
            cached = self._tiny_tokenizers[key] = (task, word_tokenizer(corpus))
        return cached[1]

    def config(self, task, scale, hub_id):
        cfg = super().config(task, scale, hub_id)
        if hub_id is None:
            tok = self._tiny_tokenizer(task)
            cfg.vocab_size = len(tok)
            cfg.pad_token_id = tok.pad_token_id
        return cfg

    def processor(self, task, scale, hub_id):
        if hub_id is None:
            return self._tiny_tokenizer(task)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(hub_id)
