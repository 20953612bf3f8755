"""bert family (loaded lazily through the spec's factory); tokenizers as in ``TextFamily``."""
from __future__ import annotations

from mubench_harness.hf import TextFamily


class BertFamily(TextFamily):
    auto_class = "transformers:AutoModelForSequenceClassification"
    #: 2 layers of width 32 (the vocabulary is the offline word tokenizer's)
    tiny_config = {
        "model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "max_position_embeddings": 512, "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
