"""LLaMA family: real scales load the checkpoint and its tokenizer (LLaMA has no pad token: EOS pads,
prompts are left-padded by the task itself); ``tiny`` is a small LlamaConfig built offline."""
from __future__ import annotations

from mubench_harness.generative.families import TextGenerationFamily


class LlamaFamily(TextGenerationFamily):
    auto_class = "transformers:AutoModelForCausalLM"
    tiny_config = {
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 256,
        "tie_word_embeddings": False,
    }

    def tiny_token_ids(self, tok):
        return {**super().tiny_token_ids(tok), "bos_token_id": tok.bos_token_id}

    def processor(self, task, scale, hub_id):
        tok = super().processor(task, scale, hub_id)
        if hub_id is not None and tok.pad_token is None:
            tok.pad_token = tok.eos_token  # only ever at masked positions
        return tok
