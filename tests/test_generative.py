"""Hand checks of the generative task primitives (text), independent of any plugin."""
from __future__ import annotations

import math

import pytest
import torch
from pydantic import BaseModel

from mubench_harness.data import Rows
from mubench_harness.generative.causal import CausalLMTask
from mubench_harness.generative.sources import load_hub_or_mirror
from mubench_harness.generative.text import (
    IGNORE, bytes_to_texts, rouge_l, swap_targets, texts_to_bytes, token_statistics,
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


def _toy_rows():
    from datasets import Dataset

    ds = Dataset.from_dict({"p": ["tell me about ann", "who"], "t": ["ann is a poet", "nobody"]})
    tok = word_tokenizer(list(ds["p"]) + list(ds["t"]))
    task = _Toy(_Args())
    built = type("B", (), {"processor": tok, "info": {}})()
    return task, task.encode(ds, built), tok


def test_causal_mask_excludes_prompt_and_sum_vs_mean():
    task, rows, tok = _toy_rows()
    # prompts are left-padded; targets end with EOS and are -100 padded
    assert rows["prompt_mask"][1].tolist() == [0, 0, 0, 0, 0, 1]
    n_target = (rows["labels"] != IGNORE).sum(1)
    assert n_target.tolist() == [5, 2]  # "ann is a poet </s>", "nobody </s>"
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
    assert torch.allclose(mean, torch.full((2,), math.log(len(tok))))
    assert torch.allclose(total, n_target * math.log(len(tok)))


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
