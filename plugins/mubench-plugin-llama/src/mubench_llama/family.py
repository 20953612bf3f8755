"""LLaMA family: real scales load the checkpoint and its tokenizer (LLaMA has no pad token: EOS pads,
prompts are left-padded by the task itself); ``tiny`` is a small LlamaConfig built offline."""
from __future__ import annotations

from mubench_harness.generative.families import TinyTokenizerMixin
from mubench_harness.hf import HFFamily


class LlamaFamily(TinyTokenizerMixin, HFFamily):
    auto_class = "transformers:AutoModelForCausalLM"
    tiny_config = {
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 256,
        "tie_word_embeddings": False,
    }

    def head_kwargs(self, task):
        return {}

    def config(self, task, scale, hub_id):
        if hub_id is not None:
            return super().config(task, scale, hub_id)
        from transformers import AutoConfig

        tok = self.tiny_tokenizer(task)
        kwargs = dict(self.tiny_config)
        return AutoConfig.for_model(kwargs.pop("model_type"), vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **kwargs)

    def processor(self, task, scale, hub_id):
        if hub_id is None:
            return self.tiny_tokenizer(task)
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(hub_id)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token  # only ever at masked positions
        return tok
