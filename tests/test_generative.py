"""Hand checks of the generative task primitives (text), independent of any plugin."""
from __future__ import annotations

import math

import pytest
import torch
from pydantic import BaseModel

from mubench_harness.data import Rows
from mubench_harness.generative.causal import CausalLMTask
from mubench_harness.generative.sources import load_hub_or_mirror
from mubench_harness.generative.settings import Decoding
from mubench_harness.generative.text import (
    IGNORE, PerSampleSampler, bytes_to_texts, rouge_l, swap_targets, texts_to_bytes, token_statistics,
)
from mubench_harness.hf import word_tokenizer


def test_token_statistics_by_hand():
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]]])
    targets = torch.tensor([[0, 2, IGNORE]])  # the third position is padding
    s = token_statistics(logits, targets)
    lp0 = 2.0 - math.log(math.exp(2) + 2)
    lp1 = 0.0 - math.log(math.e + 2)
    assert s["nll_sum"].item() == pytest.approx(-(lp0 + lp1), rel=1e-5)
    assert s["loss"].item() == pytest.approx(-(lp0 + lp1) / 2, rel=1e-5)
    assert s["p_true"].item() == pytest.approx(math.exp((lp0 + lp1) / 2), rel=1e-5)
    assert s["margin"].item() == pytest.approx(((2 - 0) + (0 - 1)) / 2, rel=1e-5)
    p = logits[0, :2].softmax(-1)
    ent = -(p * p.log()).sum(-1).mean()
    assert s["entropy"].item() == pytest.approx(ent.item(), rel=1e-5)


def test_bytes_round_trip_and_truncation():
    texts = ["héllo\nworld", "", "x" * 10]
    with pytest.warns(UserWarning, match="truncated"):
        data = texts_to_bytes(texts, 8)
    assert data.shape == (3, 8) and data.dtype == torch.uint8
    assert bytes_to_texts(data) == ["héllo\nw", "", "x" * 8]


def test_swap_targets_never_keeps_own_target():
    labels = torch.tensor([[1, 2, IGNORE], [1, 2, IGNORE], [3, 4, 5], [6, IGNORE, IGNORE]])
    rows = Rows({"labels": labels, "other": torch.arange(4)})
    for seed in range(20):
        out = swap_targets(rows, rows, torch.Generator().manual_seed(seed))
        assert ((out["labels"] != labels).any(1)).all()
        assert torch.equal(out["idx"], rows["idx"]) and torch.equal(out["other"], rows["other"])
    same = Rows({"labels": labels[:2]})
    with pytest.raises(ValueError, match="every pool target"):
        swap_targets(same, same, torch.Generator().manual_seed(0))
    kept = sum(bool((swap_targets(rows, rows, torch.Generator().manual_seed(s), include_true=True)["labels"]
                     == labels).all(1).any()) for s in range(20))
    assert kept > 0, "include_true draws from every pool target, the own one included"


def test_rouge_l():
    r = rouge_l(["tom meets ann at noon", "completely different words"], ["tom meets ann at noon", "tom meets ann"])
    assert r.dtype == torch.float32 and r[0] == pytest.approx(1.0) and r[1] == 0.0


class _Args(BaseModel):
    max_prompt_tokens: int = 6
    max_target_tokens: int = 5
    decoding: Decoding = Decoding(max_new_tokens=6)


class _Toy(CausalLMTask):
    def examples(self, dataset):
        return {"source": list(dataset["p"]), "target": list(dataset["t"]), "reference": list(dataset["t"])}


class _Oracle(torch.nn.Module):
    """A 'model' whose logits at position p put all mass on the token at p+1: a perfect next-token
    predictor for the sequence it is given. Loss ≈ 0 only if the task aligns logits and targets."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab
        self.seen = []

    def forward(self, input_ids, attention_mask, position_ids):
        self.seen.append((input_ids, attention_mask, position_ids))
        nxt = torch.cat([input_ids[:, 1:], input_ids[:, :1]], 1)
        return type("O", (), {"logits": 30.0 * torch.nn.functional.one_hot(nxt, self.vocab).float()})


def _toy_rows(args: _Args | None = None):
    from datasets import Dataset

    ds = Dataset.from_dict({"p": ["tell me about ann", "who", "who is bob", "and carl"],
                            "t": ["ann is a poet", "nobody", "bob paints walls", "carl is bob's son"]})
    tok = word_tokenizer(list(ds["p"]) + list(ds["t"]))
    task = _Toy(args or _Args())
    built = type("B", (), {"processor": tok, "info": {}})()
    return task, task.encode(ds, built), tok


def test_causal_mask_excludes_prompt_and_sum_vs_mean():
    task, rows, tok = _toy_rows()
    # prompts are left-padded; targets end with EOS and are -100 padded
    assert rows["prompt_mask"][1].tolist() == [0, 0, 0, 0, 0, 1]
    n_target = (rows["labels"] != IGNORE).sum(1)
    assert n_target.tolist()[:2] == [5, 2]  # "ann is a poet </s>", "nobody </s>"
    batch = dict(rows.columns)
    model = _Oracle(len(tok))
    out = task.outputs(model, batch)
    assert out.values.shape[:2] == out.mask.shape == rows["labels"].shape
    assert torch.equal(out.mask, rows["labels"] != IGNORE)  # no prompt position is a target
    assert task.per_sample_loss(model, batch).max() < 1e-6, "logits misaligned with target tokens"
    ids, mask, pos = model.seen[-1]
    assert pos[1, 5].item() == 0 and pos[1, 6].item() == 1, "left padding must not shift positions"
    # a model that predicts uniformly: mean token CE = log V, summed NLL = n_target · log V
    uniform = lambda **kw: type("O", (), {"logits": torch.zeros(*kw["input_ids"].shape, len(tok))})  # noqa: E731
    mean = task.per_sample_loss(uniform, batch)
    total = task.sequence_nll(uniform, batch)
    assert torch.allclose(mean, torch.full((4,), math.log(len(tok))))
    assert torch.allclose(total, n_target * math.log(len(tok)))


def test_per_sample_sampler_draws_from_softmax_with_its_own_seed():
    scores = torch.log(torch.tensor([[0.25, 0.75, 0.0]])).expand(4000, 3).clone()
    out = PerSampleSampler(list(range(4000)))(None, scores)
    assert (out == 0).sum(1).tolist() == [1] * 4000, "exactly one finite score per row: the drawn token"
    assert torch.isinf(out).sum().item() == 4000 * 2
    drawn = out.argmax(1)
    assert (drawn != 2).all(), "a token of probability 0 is never drawn"
    assert (drawn == 1).float().mean().item() == pytest.approx(0.75, abs=0.03)
    again = PerSampleSampler([7, 3])(None, scores[:2])
    assert torch.equal(again, PerSampleSampler([7, 3])(None, scores[:2])), "same seeds, same draws"
    assert torch.equal(again[1], PerSampleSampler([3])(None, scores[:1])[0]), "row 3 draws as if alone"
    with pytest.raises(RuntimeError, match="2 rows but 1 seeds"):
        PerSampleSampler([0])(None, scores[:2])


def _tiny_llama(vocab: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32)
    return LlamaForCausalLM(cfg).eval()


def test_sampled_text_of_a_sample_does_not_depend_on_its_batch():
    def texts(seed, batch_size, order):
        task, rows, tok = _toy_rows(_Args(decoding=Decoding(max_new_tokens=6, do_sample=True, seed=seed,
                                                            batch_size=batch_size)))
        batch = {k: v[order] for k, v in rows.columns.items()}
        return dict(zip(batch["idx"].tolist(), task.generate_texts(model, batch)))

    _, _, tok = _toy_rows()
    model = _tiny_llama(len(tok))
    together = texts(0, 4, [0, 1, 2, 3])
    assert texts(0, 1, [0, 1, 2, 3]) == together
    assert texts(0, 3, [3, 1, 0, 2]) == together, "another batch and order: the same text per sample"
    assert texts(1, 4, [0, 1, 2, 3]) != together, "another seed, other texts"
    assert len(set(together.values())) > 1, "samples of one batch draw from different generators"


def test_nucleus_of_one_token_is_greedy():
    def generate(decoding):
        task, rows, tok = _toy_rows(_Args(decoding=decoding))
        return task.generate_texts(model, dict(rows.columns))

    _, _, tok = _toy_rows()
    model = _tiny_llama(len(tok))
    greedy = generate(Decoding(max_new_tokens=6))
    assert generate(Decoding(max_new_tokens=6, do_sample=True, top_p=1e-6, seed=5)) == greedy


def test_beam_sampling_is_refused_at_validation():
    with pytest.raises(ValueError, match="beam sampling"):
        Decoding(do_sample=True, num_beams=2)


def test_chance_is_zero_for_generation():
    task, rows, _ = _toy_rows()
    assert task.chance(rows) == 0.0


def test_load_hub_or_mirror(tmp_path):
    from datasets import Dataset, DatasetDict

    dd = DatasetDict({"train": Dataset.from_dict({"a": [1, 2]}), "test": Dataset.from_dict({"a": [3]})})
    dd.save_to_disk(str(tmp_path / "disk"))
    assert load_hub_or_mirror("unused/id", str(tmp_path / "disk"), ("train", "test"))["test"]["a"] == [3]
    (tmp_path / "files").mkdir()
    dd["train"].to_parquet(str(tmp_path / "files" / "train.parquet"))
    assert list(load_hub_or_mirror("unused/id", str(tmp_path / "files"), ("train", "test"))) == ["train"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_hub_or_mirror("unused/id", str(tmp_path / "nowhere"), ("train",))
