"""T5 family: real scales load the hub checkpoint and its sentencepiece tokenizer; ``tiny`` builds a
small T5 v1.1-style model (gated-GELU, untied head) offline with a word tokenizer fitted on the task."""
from __future__ import annotations

from mubench_harness.generative.families import TinyTokenizerMixin
from mubench_harness.hf import HFFamily


class T5Family(TinyTokenizerMixin, HFFamily):
    auto_class = "transformers:AutoModelForSeq2SeqLM"
    tiny_config = {
        "model_type": "t5", "d_model": 64, "d_ff": 128, "d_kv": 16, "num_heads": 4, "num_layers": 2,
        "num_decoder_layers": 2, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False,
        "relative_attention_num_buckets": 16, "relative_attention_max_distance": 64,
        # no dropout at tiny scale: the mini corpus must be memorised (train score above test)
        "dropout_rate": 0.0,
    }

    def head_kwargs(self, task):
        return {}  # a language-model head: no class count

    def config(self, task, scale, hub_id):
        if hub_id is not None:
            return super().config(task, scale, hub_id)
        from transformers import AutoConfig

        tok = self.tiny_tokenizer(task)
        kwargs = dict(self.tiny_config)
        # T5 starts decoding from the pad id and stops at EOS: take both from the tiny tokenizer
        return AutoConfig.for_model(kwargs.pop("model_type"), vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                                    eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.pad_token_id, **kwargs)

    def processor(self, task, scale, hub_id):
        if hub_id is None:
            return self.tiny_tokenizer(task)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(hub_id)
