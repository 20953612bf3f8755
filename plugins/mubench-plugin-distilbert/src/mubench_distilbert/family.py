"""distilbert family (loaded lazily through the spec's factory); tokenizers as in ``TextFamily``."""
from __future__ import annotations

from mubench_harness.hf import TextFamily


class DistilBertFamily(TextFamily):
    auto_class = "transformers:AutoModelForSequenceClassification"
    #: 2 layers of width 32 (the vocabulary is the offline word tokenizer's)
    tiny_config = {
        "model_type": "distilbert", "dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64,
        "max_position_embeddings": 512, "dropout": 0.0, "attention_dropout": 0.0, "seq_classif_dropout": 0.0,
    }
