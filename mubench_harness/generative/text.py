"""Shared primitives of text-generation tasks (seq2seq and causal LM).

A subclass says how to get token logits aligned with the target tokens (:meth:`token_logits`) and how
to generate (:meth:`generate_ids`); everything else — the token-level losses, the signals, RandLabel's
target swap, batched seeded scoring — lives here once.

Rows of every text task keep the target token ids in ``labels`` (``-100`` on padding), so the
classification contract checks (``labels`` differ after corruption) apply unchanged, and the raw
reference text in ``reference`` (UTF-8 bytes, zero-padded to a fixed width: Rows hold tensors only).
"""
from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F

from ..contracts import Outputs, Task
from ..data import Rows
from .settings import Decoding

IGNORE = -100  # the target id that marks padding / prompt positions, as in transformers


def texts_to_bytes(texts: list[str], width: int) -> torch.Tensor:
    """Encode texts as UTF-8 in a zero-padded uint8 tensor [N, width] (longer texts are truncated)."""
    out = torch.zeros(len(texts), width, dtype=torch.uint8)
    truncated = 0
    for i, text in enumerate(texts):
        data = text.encode("utf-8")
        if len(data) > width:
            truncated += 1
            data = data[:width]
        if data:
            out[i, : len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    if truncated:
        warnings.warn(f"{truncated} reference text(s) longer than {width} bytes were truncated "
                      f"(raise the task's max_reference_bytes)", stacklevel=2)
    return out


def bytes_to_texts(data: torch.Tensor) -> list[str]:
    """Inverse of :func:`texts_to_bytes` (a character cut by truncation is dropped)."""
    return [bytes(row[row != 0].tolist()).decode("utf-8", errors="ignore") for row in data.cpu()]


def token_statistics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sample statistics over the target tokens (``targets != -100``) of token logits [B, T, V].

    ``nll_sum``: summed NLL; ``loss``: mean token CE; ``p_true``: exp(mean token log-prob);
    ``entropy``: mean token entropy; ``margin``: mean of (true-token logit − best other logit).
    """
    logits = logits.float()
    mask = targets != IGNORE
    count = mask.sum(1).clamp(min=1)
    safe = targets.clamp(min=0)
    logp = logits.log_softmax(-1)
    token_logp = logp.gather(-1, safe[..., None]).squeeze(-1) * mask
    entropy = -(logp.exp() * logp).nan_to_num().sum(-1)
    true_logit = logits.gather(-1, safe[..., None]).squeeze(-1)
    other = logits.scatter(-1, safe[..., None], float("-inf")).max(-1).values
    nll_sum = -token_logp.sum(1)
    return {
        "nll_sum": nll_sum,
        "loss": nll_sum / count,
        "p_true": torch.exp(-nll_sum / count),
        "entropy": (entropy * mask).sum(1) / count,
        "margin": ((true_logit - other) * mask).sum(1) / count,
    }


def token_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[B, T] token NLL, 0 at ignored positions (cross_entropy avoids materialising log-probs twice)."""
    return F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=IGNORE, reduction="none")


def swap_targets(forget: Rows, pool: Rows, generator: torch.Generator, *, key: str = "labels",
                 columns: tuple[str, ...] = ("labels",), include_true: bool = False) -> Rows:
    """RandLabel for generation: each forget row takes the ``columns`` of a random ``pool`` row whose
    ``key`` differs from its own (``include_true``: any pool row). Drawn once from ``generator``."""
    n, m = len(forget), len(pool)
    if m == 0:
        raise ValueError("cannot corrupt targets: the pool of replacement targets is empty")
    own = forget[key].reshape(n, -1)
    candidates = pool[key].reshape(m, -1)
    if own.shape[1] != candidates.shape[1]:
        raise ValueError(f"forget and pool {key!r} widths differ ({own.shape[1]} vs {candidates.shape[1]}): "
                         "encode both with the same task settings")
    choice = torch.randint(0, m, (n,), generator=generator)
    if not include_true:
        for _ in range(32):  # redraw the few rows that drew their own target
            same = (candidates[choice] == own).all(1)
            if not same.any():
                break
            choice[same] = torch.randint(0, m, (int(same.sum()),), generator=generator)
        for i in torch.nonzero((candidates[choice] == own).all(1)).flatten().tolist():
            other = torch.nonzero(~(candidates == own[i]).all(1)).flatten()
            if len(other) == 0:
                raise ValueError("cannot corrupt targets: every pool target equals the forget sample's own")
            choice[i] = other[torch.randint(0, len(other), (1,), generator=generator)]
    return forget.replace(**{c: pool[c][choice] for c in columns})


def rouge_l(predictions: list[str], references: list[str]) -> torch.Tensor:
    """[B] ROUGE-L F1 (Google's ``rouge-score``, with stemming as in summarisation papers)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return torch.tensor([scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references)], dtype=torch.float32)


class TextGenerationTask(Task):
    """Base of text-generation tasks. Subclasses implement :meth:`examples` (the raw texts) plus the
    per-architecture :meth:`encode_examples`, :meth:`token_logits` and :meth:`generate_ids`."""

    stratify_column = None  # no class labels to stratify deletion sets by

    def __init__(self, args):
        super().__init__(args)
        self.tokenizer: Any = None  # set by encode: scoring decodes generated ids with it
        self.source = "mini"

    # -- settings read from the task args -------------------------------------------------------
    @property
    def decoding(self) -> Decoding:
        return getattr(self.args, "decoding", None) or Decoding()

    def _arg(self, name: str, default: Any) -> Any:
        return getattr(self.args, name, default)

    # -- data -----------------------------------------------------------------------------------
    def examples(self, dataset) -> dict[str, list[str]]:
        """``{"source": prompts/inputs, "target": texts to learn, "reference": texts to score against}``."""
        raise NotImplementedError

    def encode_examples(self, examples: dict[str, list[str]], tokenizer) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def encode(self, dataset, built):
        if built.processor is None:
            raise ValueError(f"{type(self).__name__} needs a tokenizer: the model family built none")
        self.tokenizer = built.processor
        ex = self.examples(dataset)
        columns = self.encode_examples(ex, built.processor)
        columns["reference"] = texts_to_bytes(ex["reference"], self._arg("max_reference_bytes", 1024))
        return Rows(columns)

    def prepare_batch(self, batch, built):
        if built is not None and built.processor is not None:
            self.tokenizer = built.processor
        return batch

    def tokenizer_corpus(self, source: str) -> list[str]:
        data = self.load(source)
        ex = self.examples(data["train"])
        return ex["source"] + ex["target"]

    def chance(self, rows: Rows) -> float:
        """No chance level for generation: the metrics report the original model's Df score instead."""
        return 0.0

    def _tokenize(self, tokenizer, texts: list[str], max_len: int, *, special: bool, eos: bool) -> list[list[int]]:
        ids = tokenizer(texts, add_special_tokens=special, truncation=True, max_length=max_len)["input_ids"]
        if eos:  # targets end with EOS so generation learns to stop (slow tokenizers may add it already)
            eos_id = tokenizer.eos_token_id
            ids = [x if x and x[-1] == eos_id else x[: max_len - 1] + [eos_id] for x in ids]
        return ids

    @staticmethod
    def _pad(seqs: list[list[int]], width: int, value: int, *, left: bool = False) -> torch.Tensor:
        out = torch.full((len(seqs), width), value, dtype=torch.long)
        for i, s in enumerate(seqs):
            s = s[:width]
            if s:
                if left:
                    out[i, width - len(s):] = torch.tensor(s)
                else:
                    out[i, : len(s)] = torch.tensor(s)
        return out

    # -- primitives -----------------------------------------------------------------------------
    def token_logits(self, model, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Token logits [B, T, V] aligned with the target ids [B, T] (``-100``: not a target)."""
        raise NotImplementedError

    def per_sample_loss(self, model, batch):
        logits, targets = self.token_logits(model, batch)
        nll = token_nll(logits, targets)
        return nll.sum(1) / (targets != IGNORE).sum(1).clamp(min=1)

    def sequence_nll(self, model, batch):
        logits, targets = self.token_logits(model, batch)
        return token_nll(logits, targets).sum(1)

    def outputs(self, model, batch):
        logits, targets = self.token_logits(model, batch)
        return Outputs(logits, targets != IGNORE)

    def corrupt(self, forget, pool, generator, include_true=False):
        return swap_targets(forget, pool, generator, include_true=include_true)

    def signals(self, model, batch):
        logits, targets = self.token_logits(model, batch)
        stats = token_statistics(logits, targets)
        stats.pop("nll_sum")
        stats["score"] = self.score(model, batch)
        return stats

    # -- generation and scoring -----------------------------------------------------------------
    def generate_ids(self, model, batch, decoding: Decoding) -> torch.Tensor:
        """Generated continuation ids [B, N] (without the prompt)."""
        raise NotImplementedError

    def score_texts(self, generated: list[str], batch) -> torch.Tensor:
        """[B] performance of the generated texts. Default: ROUGE-L F1 against ``reference``."""
        return rouge_l(generated, bytes_to_texts(batch["reference"]))

    def generate_texts(self, model, batch) -> list[str]:
        """Batched, seeded generation with a progress bar (shown on a terminal only)."""
        from tqdm.auto import tqdm

        if self.tokenizer is None:
            raise RuntimeError(f"{type(self).__name__}.score needs the tokenizer: encode the rows first")
        dec = self.decoding
        n = len(batch["idx"])
        was_training = model.training
        model.eval()
        texts: list[str] = []
        with tqdm(total=n, desc=f"{type(self).__name__}: generating", unit="sample", disable=None, leave=False) as bar:
            for start in range(0, n, dec.batch_size):
                part = {k: v[start : start + dec.batch_size] for k, v in batch.items()}
                with torch.no_grad():
                    ids = self.generate_ids(model, part, dec)
                texts += self.tokenizer.batch_decode(ids, skip_special_tokens=True)
                bar.update(len(part["idx"]))
        model.train(was_training)
        return texts

    def score(self, model, batch):
        return self.score_texts(self.generate_texts(model, batch), batch).to(batch["idx"].device)

    def generation_kwargs(self, decoding: Decoding, batch) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": decoding.max_new_tokens, "num_beams": decoding.num_beams,
                                  "do_sample": False}
        if decoding.do_sample:
            # transformers samples every row from the one global RNG, so a text would depend on its batch;
            # instead each row draws from its own generator and greedy search takes the drawn token
            from transformers import LogitsProcessorList, TopPLogitsWarper

            seeds = [decoding.seed + int(i) for i in batch["idx"]]
            kwargs["logits_processor"] = LogitsProcessorList([TopPLogitsWarper(decoding.top_p),
                                                              PerSampleSampler(seeds)])
        tok = self.tokenizer
        kwargs["pad_token_id"] = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        kwargs["eos_token_id"] = tok.eos_token_id
        return kwargs


class PerSampleSampler:
    """A logits processor that samples row ``r``'s next token from ``softmax(scores[r])`` with its own
    generator seeded ``seeds[r]``, and leaves that token the only finite score (greedy search then takes
    it). A sample's text so depends on its seed alone, not on the batch it is generated in."""

    def __init__(self, seeds: list[int]):
        self.seeds = list(seeds)
        self.generators: list[torch.Generator] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if len(self.seeds) != len(scores):
            raise RuntimeError(f"PerSampleSampler: {len(scores)} rows but {len(self.seeds)} seeds")
        if not self.generators:  # on the scores' device: no copy of the probabilities per step
            self.generators = [torch.Generator(device=scores.device).manual_seed(s) for s in self.seeds]
        probs = scores.float().softmax(-1)
        chosen = torch.stack([torch.multinomial(p, 1, generator=g) for p, g in zip(probs, self.generators)])
        return torch.full_like(scores, float("-inf")).scatter_(1, chosen, 0.0)
