"""The single-text classification base: per-batch padding trim and the tokenizer requirement."""
import pytest
import torch
from pydantic import BaseModel

from mubench_harness.contracts import Built
from mubench_harness.text_classification import TextClassificationTask, trim_padding


def test_trim_padding_cuts_to_the_longest_text_and_leaves_other_columns():
    batch = {"input_ids": torch.tensor([[5, 6, 0, 0], [7, 0, 0, 0]]),
             "attention_mask": torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]]), "labels": torch.tensor([1, 0])}
    out = trim_padding(batch)
    assert out["input_ids"].tolist() == [[5, 6], [7, 0]] and out["attention_mask"].shape == (2, 2)
    assert out["labels"] is batch["labels"]
    assert trim_padding({"labels": batch["labels"]})["labels"] is batch["labels"]  # no mask: unchanged


def test_model_inputs_are_ids_and_mask_only_and_encode_needs_a_tokenizer():
    class Args(BaseModel):
        max_length: int = 8

    class Demo(TextClassificationTask):
        name = "demo"

    task = Demo(Args())
    batch = {"input_ids": torch.ones(2, 3, dtype=torch.long), "attention_mask": torch.ones(2, 3, dtype=torch.long),
             "token_type_ids": torch.zeros(2, 3, dtype=torch.long), "labels": torch.tensor([0, 1]), "idx": torch.tensor([0, 1])}
    assert set(task.model_inputs(batch)) == {"input_ids", "attention_mask"}
    assert task.last_source is None
    with pytest.raises(ValueError, match="demo needs a tokenizer"):
        task.encode({"text": ["a"], "label": [0]}, Built(torch.nn.Linear(1, 1), None, {}))


def test_load_dispatches_on_the_source_and_records_it_for_tiny_tokenizers():
    class Args(BaseModel):
        max_length: int = 8

    class Demo(TextClassificationTask):
        name = "demo"

        def load_mini(self):
            return {"train": {"text": ["mini"]}}

        def load_hub(self):
            return {"train": {"text": ["hub"]}}

    task = Demo(Args())
    assert task.tokenizer_corpus("hub") == ["hub"] and task.last_source == "hub"
    assert task.load("mini")["train"]["text"] == ["mini"] and task.last_source == "mini"
    with pytest.raises(ValueError, match="demo: unknown source 'disk' \\(hub or mini\\)"):
        task.load("disk")
    assert task.last_source == "mini"  # a refused source is not recorded
