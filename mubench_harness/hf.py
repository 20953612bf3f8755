"""Shared building blocks for model families on transformers' Auto classes.

A real scale loads its hub id with ``from_pretrained`` (the pretrained body, a freshly initialised,
seeded head for the task's classes). The ``tiny`` scale builds a small config of the same architecture
offline with ``from_config``. ``init='random'`` always builds from the config (Bad-T's incompetent
teacher). Families subclass :class:`HFFamily` and fill in the few class attributes.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from .contracts import Built, ModelFamily, Task, seeded

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<s>", "</s>")


def word_tokenizer(texts: Iterable[str], vocab_size: int = 4000, model_max_length: int = 512):
    """An offline word-level fast tokenizer fitted on ``texts`` (tiny scales have no hub tokenizer).

    Deterministic for the same texts: the vocabulary is ordered by frequency, ties by the trainer's
    stable order.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(list(texts), trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS)))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", bos_token="<s>", eos_token="</s>", model_max_length=model_max_length,
    )


class HFFamily(ModelFamily):
    """Family on an Auto class. Subclasses set ``auto_class`` (import path, e.g.
    ``"transformers:AutoModelForSequenceClassification"``), ``tiny_config`` (kwargs of the tiny config,
    with ``model_type``) and override :meth:`processor` / :meth:`head_kwargs` as needed."""

    auto_class: ClassVar[str] = "transformers:AutoModelForSequenceClassification"
    tiny_config: ClassVar[dict[str, Any]] = {}
    #: module-name suffixes LoRA adapts by default (``built.info["lora_targets"]``); empty: the
    #: attention query/value projections (a CNN declares its convolutions)
    lora_targets: ClassVar[tuple[str, ...]] = ()

    def hub_id(self, scale: str) -> str | None:
        if scale not in self.spec.scales:
            raise ValueError(f"model {self.spec.name!r} has no scale {scale!r}; scales: {', '.join(self.spec.scales)}")
        return self.spec.scales[scale]

    def head_kwargs(self, task: Task) -> dict[str, Any]:
        """Config overrides the task imposes (classification: the number of labels)."""
        n = getattr(task, "num_classes", None)
        return {"num_labels": n} if n else {}

    def config(self, task: Task, scale: str, hub_id: str | None):
        from transformers import AutoConfig

        if hub_id is None:
            kwargs = dict(self.tiny_config)
            return AutoConfig.for_model(kwargs.pop("model_type"), **kwargs, **self.head_kwargs(task))
        return AutoConfig.from_pretrained(hub_id, **self.head_kwargs(task))

    def processor(self, task: Task, scale: str, hub_id: str | None) -> Any:
        """Tokenizer / feature extractor. Default: the hub's AutoProcessor, none at tiny scale."""
        if hub_id is None:
            return None
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(hub_id)

    def build(self, task: Task, scale: str, *, init: str = "pretrained", seed: int = 0) -> Built:
        from .specs import load_target

        hub_id = self.hub_id(scale)
        auto = load_target(self.auto_class)
        config = self.config(task, scale, hub_id)
        with seeded(seed):  # the fresh head (and a random init) depend on the seed alone
            if init == "pretrained" and hub_id is not None:
                model = auto.from_pretrained(hub_id, config=config, ignore_mismatched_sizes=True)
            elif init in ("pretrained", "random"):
                # Auto classes build through from_config; a concrete class (e.g. ViLT's two-image
                # head, which no Auto mapping lists) is built by calling it on the config
                model = auto.from_config(config) if hasattr(auto, "from_config") else auto(config)
            else:
                raise ValueError(f"init must be 'pretrained' or 'random', not {init!r}")
        n_params = sum(p.numel() for p in model.parameters())
        info = {"hub_id": hub_id, "scale": scale, "init": init, "parameters": n_params}
        if self.lora_targets:
            info["lora_targets"] = list(self.lora_targets)
        return Built(model, self.processor(task, scale, hub_id), info)


class TextFamily(HFFamily):
    """A text family: the hub tokenizer at real scales; at ``tiny`` scale an offline word-level
    tokenizer fitted on the task's training texts (of the source the task last loaded), whose size
    becomes the tiny config's vocabulary."""

    def __init__(self, spec):
        super().__init__(spec)
        #: (id of the task, source) -> (task, fitted tokenizer): config and processor share one tokenizer;
        #: the task is kept so a recycled id can never hand out another task's vocabulary
        self._tiny_tokenizers: dict = {}

    def _tiny_tokenizer(self, task: Task):
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


#: the tiny scale of the raw-audio families (HuBERT, wav2vec 2.0 share the encoder layout): 4 strided
#: convolutions (16 kHz -> 50 frames a second) and 2 transformer layers of width 32, no dropout
TINY_RAW_AUDIO_ENCODER: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": [16, 32, 32, 32],
    "conv_stride": [5, 4, 4, 4],
    "conv_kernel": [10, 8, 4, 4],
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "classifier_proj_size": 32,
    "hidden_dropout": 0.0,
    "activation_dropout": 0.0,
    "attention_dropout": 0.0,
    "feat_proj_dropout": 0.0,
    "final_dropout": 0.0,
    "layerdrop": 0.0,
    "vocab_size": 32,
}


class RawAudioFamily(HFFamily):
    """Families on raw 16 kHz samples (HuBERT, wav2vec 2.0) with an audio-classification head.
    Subclasses set ``tiny_config`` to their ``model_type`` over :data:`TINY_RAW_AUDIO_ENCODER`."""

    auto_class = "transformers:AutoModelForAudioClassification"

    def head_kwargs(self, task):
        # SpecAugment's time masks are drawn from numpy's global RNG, outside the run seed: off, so the
        # same seed gives the same model (the clips are 1 s keywords, where masking is not needed)
        return {**super().head_kwargs(task), "mask_time_prob": 0.0, "mask_feature_prob": 0.0}

    def processor(self, task, scale, hub_id):
        from transformers import AutoFeatureExtractor, Wav2Vec2FeatureExtractor

        if hub_id is None:  # the checkpoints' extractor: raw 16 kHz samples, zero mean / unit variance
            return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                            do_normalize=True, return_attention_mask=False)
        return AutoFeatureExtractor.from_pretrained(hub_id)
