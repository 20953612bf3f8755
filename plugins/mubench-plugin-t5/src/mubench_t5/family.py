"""T5 family: real scales load the hub checkpoint and its sentencepiece tokenizer; ``tiny`` builds a
small T5 v1.1-style model (gated-GELU, untied head) offline with a word tokenizer fitted on the task."""
from __future__ import annotations

from mubench_harness.generative.families import TextGenerationFamily


class T5Family(TextGenerationFamily):
    auto_class = "transformers:AutoModelForSeq2SeqLM"
    tiny_config = {
        "model_type": "t5", "d_model": 64, "d_ff": 128, "d_kv": 16, "num_heads": 4, "num_layers": 2,
        "num_decoder_layers": 2, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False,
        "relative_attention_num_buckets": 16, "relative_attention_max_distance": 64,
        # no dropout at tiny scale: the mini corpus must be memorised (train score above test)
        "dropout_rate": 0.0,
    }

    def tiny_token_ids(self, tok):
        # T5 starts decoding from the pad id and stops at EOS: take both from the tiny tokenizer
        return {**super().tiny_token_ids(tok), "decoder_start_token_id": tok.pad_token_id}
