"""Causal-LM tasks (decoder-only models such as LLaMA): a prompt, then the target continuation.

Rows keep the prompt LEFT-padded (``prompt_ids`` / ``prompt_mask`` [B, P]) and the target apart in
``labels`` [B, L] (-100 padded). The model input is assembled per batch as prompt ⧺ target, so the
loss covers only target tokens (the prompt never is a label), generation starts right after the
prompt without padding in between, and RandLabel swaps ``labels`` alone to give a sample another
target.
"""
from __future__ import annotations

import torch

from .text import IGNORE, TextGenerationTask


class CausalLMTask(TextGenerationTask):
    kind = "causal_lm"

    def encode_examples(self, examples, tokenizer):
        p_len, t_len = self._arg("max_prompt_tokens", 64), self._arg("max_target_tokens", 128)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        prompts = self._tokenize(tokenizer, examples["source"], p_len, special=True, eos=False)
        if any(len(p) == 0 for p in prompts):
            raise ValueError(f"{type(self).__name__}: an empty prompt tokenized to no tokens")
        prompts = [p[-p_len:] for p in prompts]
        targets = self._tokenize(tokenizer, examples["target"], t_len, special=False, eos=True)
        prompt_ids = self._pad(prompts, p_len, pad, left=True)
        prompt_mask = torch.zeros_like(prompt_ids)
        for i, p in enumerate(prompts):
            prompt_mask[i, p_len - len(p):] = 1
        return {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "labels": self._pad(targets, t_len, IGNORE)}

    def model_inputs(self, batch):
        """prompt ⧺ target with its attention mask and position ids (left padding shifts positions)."""
        pad = self.tokenizer.pad_token_id if self.tokenizer is not None and self.tokenizer.pad_token_id is not None else 0
        labels = batch["labels"]
        input_ids = torch.cat([batch["prompt_ids"], labels.masked_fill(labels == IGNORE, pad)], 1)
        attention_mask = torch.cat([batch["prompt_mask"], (labels != IGNORE).long()], 1)
        position_ids = (attention_mask.cumsum(1) - 1).clamp(min=0)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}

    def token_logits(self, model, batch):
        width = batch["prompt_ids"].shape[1]
        labels = batch["labels"]
        logits = model(**self.model_inputs(batch)).logits
        # position p predicts token p+1: the last prompt position predicts the first target token
        return logits[:, width - 1 : width - 1 + labels.shape[1]], labels

    def generate_ids(self, model, batch, decoding):
        width = batch["prompt_ids"].shape[1]
        out = model.generate(input_ids=batch["prompt_ids"], attention_mask=batch["prompt_mask"],
                             **self.generation_kwargs(decoding, batch))
        return out[:, width:]
