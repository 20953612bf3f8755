"""ViLT family: ``ViltForImagesAndTextClassification`` with two images per example (NLVR2's head)."""
from __future__ import annotations

from mubench_harness.hf import HFFamily, word_tokenizer


class ViltFamily(HFFamily):
    # not in an Auto mapping: the two-image NLVR2 head is its own class
    auto_class = "transformers:ViltForImagesAndTextClassification"
    # tiny: 32x32 images in 16x16 patches (4 per image: one per cell of the mini scenes), 2 layers of
    # width 64. initializer_range 0.1, not BERT's 0.02: at 0.02 the pooled [CLS] barely varies across
    # inputs (std ~4e-4) and the model sits at the majority rate for the whole mini recipe
    tiny_config = {
        "model_type": "vilt",
        "vocab_size": 4000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "image_size": 32,
        "patch_size": 16,
        "initializer_range": 0.1,
        "max_position_embeddings": 40,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }

    def head_kwargs(self, task):
        # two images per example; modality type ids: 0 text, 1 left image, 2 right image
        return {**super().head_kwargs(task), "num_images": 2, "modality_type_vocab_size": 3}

    def processor(self, task, scale, hub_id):
        if hub_id is None:  # tiny: an offline word-level tokenizer fitted on the task's statements
            texts = task.tokenizer_corpus(getattr(task, "source", None) or "mini")
            if not texts:
                raise ValueError(f"vilt tiny needs a text task: {type(task).__name__}.tokenizer_corpus returned nothing")
            return word_tokenizer(texts, vocab_size=self.tiny_config["vocab_size"], model_max_length=self.tiny_config["max_position_embeddings"])
        from transformers import ViltProcessor

        return ViltProcessor.from_pretrained(hub_id)
