"""Sequence-to-sequence tasks (encoder-decoder models such as T5): source text in, target text out."""
from __future__ import annotations

import torch

from .text import IGNORE, TextGenerationTask


class Seq2SeqTask(TextGenerationTask):
    """Rows: ``input_ids`` / ``attention_mask`` [B, S] (source), ``labels`` [B, L] (target ids, -100
    padded), ``reference`` (bytes). Widths are fixed by the args ``max_source_tokens`` /
    ``max_target_tokens`` so rows encoded separately (train, test) still concatenate."""

    kind = "seq2seq"

    def encode_examples(self, examples, tokenizer):
        src_len, tgt_len = self._arg("max_source_tokens", 256), self._arg("max_target_tokens", 64)
        pad = tokenizer.pad_token_id
        source = self._tokenize(tokenizer, examples["source"], src_len, special=True, eos=True)
        target = self._tokenize(tokenizer, examples["target"], tgt_len, special=False, eos=True)
        input_ids = self._pad(source, src_len, pad)
        return {"input_ids": input_ids, "attention_mask": (input_ids != pad).long() if pad is not None else
                torch.ones_like(input_ids), "labels": self._pad(target, tgt_len, IGNORE)}

    def model_inputs(self, batch):
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}

    def token_logits(self, model, batch):
        labels = batch["labels"]
        # teacher forcing: the decoder reads the target shifted right (the model's own rule, e.g. T5
        # starts from the pad id); passing ``labels`` would also make the model compute an unused loss
        decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=labels)
        out = model(**self.model_inputs(batch), decoder_input_ids=decoder_input_ids)
        return out.logits, labels

    def generate_ids(self, model, batch, decoding):
        return model.generate(**self.model_inputs(batch), **self.generation_kwargs(decoding, batch))
