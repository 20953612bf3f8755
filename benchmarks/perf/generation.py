"""Cost of the harness's text generation over bare ``model.generate`` (issue 6, performance).

A generative task's score generates a continuation for every evaluated sample. This times, on a tiny
random LLaMA (``LlamaForCausalLM`` from a small config) over left-padded prompts:

- **greedy**: ``CausalLMTask.generate_texts`` (batching, progress bar, decoding) against a hand-written
  loop of ``model.generate`` + ``batch_decode`` over the same batches; both must give the same texts;
- **sampled**: the harness's per-sample seeded sampling (each row draws from its own generator, so a
  text does not depend on its batch) against transformers' own sampling from the global RNG, which
  does depend on the batch.

The two sides alternate (A/B, B/A, ...) in one process; the ratio of the fastest repeats of each is
printed last for each mode.

    OMP_NUM_THREADS=1 python benchmarks/perf/generation.py [--samples 256] [--new-tokens 32] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time

import torch
from datasets import Dataset
from pydantic import BaseModel
from transformers import LlamaConfig, LlamaForCausalLM

from mubench_harness.generative.causal import CausalLMTask
from mubench_harness.generative.settings import Decoding
from mubench_harness.hf import word_tokenizer

WORDS = "ann bob carl dora eve finn gus hal ida jon kay lou poet painter sailor baker river city north".split()


class Args(BaseModel):
    max_prompt_tokens: int = 12
    max_target_tokens: int = 8
    decoding: Decoding = Decoding()


class PromptTask(CausalLMTask):
    def examples(self, dataset):
        return {"source": list(dataset["p"]), "target": list(dataset["t"]), "reference": list(dataset["t"])}


def make_rows(samples: int, decoding: Decoding, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pick = lambda n: " ".join(WORDS[i] for i in torch.randint(len(WORDS), (n,), generator=g).tolist())  # noqa: E731
    ds = Dataset.from_dict({"p": [pick(int(torch.randint(2, 10, (1,), generator=g))) for _ in range(samples)],
                            "t": [pick(4) for _ in range(samples)]})
    task = PromptTask(Args(decoding=decoding))
    tok = word_tokenizer(WORDS)
    rows = task.encode(ds, type("B", (), {"processor": tok, "info": {}})())
    return task, dict(rows.columns), tok


def make_model(vocab: int) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64)
    return LlamaForCausalLM(cfg).eval()


def bare(model, batch, tok, decoding: Decoding) -> list[str]:
    """What a researcher would write: model.generate over the same batches, transformers' own sampling."""
    texts = []
    width = batch["prompt_ids"].shape[1]
    with torch.no_grad():
        for start in range(0, len(batch["idx"]), decoding.batch_size):
            ids = batch["prompt_ids"][start : start + decoding.batch_size]
            mask = batch["prompt_mask"][start : start + decoding.batch_size]
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=decoding.max_new_tokens,
                                 do_sample=decoding.do_sample, top_p=decoding.top_p if decoding.do_sample else None,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            texts += tok.batch_decode(out[:, width:], skip_special_tokens=True)
    return texts


def timed(fn) -> tuple[float, list[str]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: stable on a shared machine)")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    for mode, sample in (("greedy", False), ("sampled", True)):
        decoding = Decoding(max_new_tokens=a.new_tokens, batch_size=a.batch_size, do_sample=sample, top_p=0.9)
        task, batch, tok = make_rows(a.samples, decoding)
        model = make_model(len(tok))
        harness_s, bare_s = [], []
        for r in range(a.repeats):
            order = ("harness", "bare") if r % 2 == 0 else ("bare", "harness")
            for side in order:
                if side == "harness":
                    s, ours = timed(lambda: task.generate_texts(model, batch))
                    harness_s.append(s)
                else:
                    s, theirs = timed(lambda: bare(model, batch, tok, decoding))
                    bare_s.append(s)
        note = f"same texts: {ours == theirs}" if not sample else "texts differ by design (per-sample vs global RNG)"
        print(f"{mode}: {a.samples} samples, {a.new_tokens} new tokens, batch {a.batch_size}; {note}")
        for r in range(a.repeats):
            print(f"  repeat {r}: harness {harness_s[r]:.2f}s  bare {bare_s[r]:.2f}s")
        print(f"{mode} harness/bare ratio: {min(harness_s) / min(bare_s):.3f}")


if __name__ == "__main__":
    main()
