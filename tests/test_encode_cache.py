"""The encoded-rows cache: a rerun with one method added encodes nothing; keys follow everything an
encoding depends on; a damaged entry is rebuilt, never used; large columns stay memory-mapped."""
from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from pydantic import BaseModel

from mubench_harness.config import validate
from mubench_harness.contracts import Built
from mubench_harness.data import SPILL_DIR, DiskColumn, Rows, column_buffer
from mubench_harness.encode_cache import EncodeCache, encode_key
from mubench_harness.hf import word_tokenizer
from mubench_harness.runner import run_benchmark
from mubench_harness.text_classification import TextClassificationTask

TASK = "tasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60}, models: [toy_mlp]}]\n"


def bench(tmp_path, unlearners: str):
    path = tmp_path / "b.yaml"
    path.write_text(f"name: t\nseeds: [0]\ndeletion_ratios: [10]\n{TASK}unlearners: {unlearners}\n")
    return path


def test_a_rerun_with_one_method_added_encodes_nothing(tmp_path, install_plugins):
    install_plugins("testkit")
    out = tmp_path / "out"
    first = run_benchmark(validate(bench(tmp_path, "[exact, ascent]")), out)
    # toy_blobs: 120 train + 60 test + 60 OOD rows, each encoded once
    assert first.work["encoded_rows"] == 240 and first.work["encode_cache_hits"] == 0
    second = run_benchmark(validate(bench(tmp_path, "[exact, ascent, dropout_ascent]")), out)
    assert second.ran == 1 and second.exit_code == 0  # only the added method's cell ran
    assert second.work["encoded_rows"] == 0 and second.work["encode_cache_hits"] == 3


class Args(BaseModel):
    max_length: int = 8


class Demo(TextClassificationTask):
    name = "demo"


def text_rows(texts=("good film", "bad film", "good plot", "bad acting")):
    return Dataset.from_dict({"text": list(texts), "label": [i % 2 for i in range(len(texts))]})


def built(corpus=("good film bad", "plot acting")):
    return Built(torch.nn.Linear(1, 1), word_tokenizer(list(corpus)), {})


def test_the_key_follows_data_tokenizer_and_task_settings():
    task, data, b = Demo(Args()), text_rows(), built()
    key = encode_key(task, data, b)
    assert key == encode_key(Demo(Args()), text_rows(), built())  # same inputs, same entry
    task.encode(data, b)  # a call sets the tokenizer's truncation/padding: still the same tokenizer
    assert encode_key(task, data, b) == key
    assert key != encode_key(task, text_rows(("good film", "bad film", "good plot", "bad plot")), b)
    assert key != encode_key(task, data, built(("good film bad", "plot")))  # another vocabulary
    assert key != encode_key(Demo(Args(max_length=16)), data, b)  # another setting
    assert encode_key(task, data, Built(torch.nn.Linear(1, 1), object(), {})) is None  # unknown processor


def test_hits_return_the_same_rows_and_a_damaged_entry_is_rebuilt(tmp_path, capsys):
    task, data, b = Demo(Args()), text_rows(), built()
    cache = EncodeCache(tmp_path)
    fresh = cache.encode(task, data, b)
    assert cache.encoded_rows == 4 and cache.hits == 0
    again = EncodeCache(tmp_path).encode(task, data, b)  # another process: read from disk
    assert again.digest() == fresh.digest() == task.encode(data, b).digest()
    # damage one column file: the entry fails its hash, is rebuilt with a warning, never used
    entry = next(p for p in tmp_path.iterdir() if p.is_dir())
    column = next(entry.glob("*.npy"))
    raw = bytearray(column.read_bytes())
    raw[-1] ^= 0xFF
    column.write_bytes(bytes(raw))
    cache = EncodeCache(tmp_path)
    rebuilt = cache.encode(task, data, b)
    assert "cached encoding not used" in capsys.readouterr().err
    assert cache.encoded_rows == 4 and cache.hits == 0 and rebuilt.digest() == fresh.digest()
    cache = EncodeCache(tmp_path)
    cache.encode(task, data, b)
    assert cache.hits == 1 and cache.encoded_rows == 0  # the rebuilt entry is good again


class Spilling(Demo):
    """Writes its token ids through column_buffer, as the video and image-pair tasks write their clips."""

    def encode(self, dataset, built):
        rows = super().encode(dataset, built)
        ids = rows["input_ids"].numpy()
        buffer = column_buffer(ids.shape, ids.dtype)
        buffer.write(0, ids)
        return Rows({**rows.columns, "input_ids": buffer.finish()})


def test_large_columns_come_back_memory_mapped(tmp_path, monkeypatch):
    monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
    token = SPILL_DIR.set(tmp_path / "spill")
    try:
        task, data, b = Spilling(Args()), text_rows(), built()
        expected = task.encode(data, b)
        rows = EncodeCache(tmp_path / "cache").encode(task, data, b)
    finally:
        SPILL_DIR.reset(token)
    assert isinstance(rows["input_ids"], DiskColumn)
    # what the task kept in memory stays there: ids and labels are read whole (splits, chance level)
    assert isinstance(rows["labels"], torch.Tensor) and isinstance(rows["idx"], torch.Tensor)
    assert torch.equal(rows["input_ids"].materialize(), expected["input_ids"].materialize())
    assert torch.equal(next(rows.select([2, 0]).batches(2))["labels"], expected["labels"][[2, 0]])
    assert EncodeCache(tmp_path / "cache").encode(task, data, b).digest() == rows.digest()  # stable across runs


@pytest.mark.parametrize("bad", ["manifest.json"])
def test_a_missing_file_is_rebuilt(tmp_path, bad, capsys):
    task, data, b = Demo(Args()), text_rows(), built()
    EncodeCache(tmp_path).encode(task, data, b)
    entry = next(p for p in tmp_path.iterdir() if p.is_dir())
    (entry / bad).unlink()
    cache = EncodeCache(tmp_path)
    cache.encode(task, data, b)
    assert cache.encoded_rows == 4 and "cached encoding not used" in capsys.readouterr().err


def test_the_tiny_tokenizer_corpus_reuses_the_loaded_training_split():
    loads = []

    class Counting(Demo):
        def load_mini(self):
            from datasets import DatasetDict

            loads.append("mini")
            return DatasetDict({"train": text_rows(), "test": text_rows()})

    task = Counting(Args())
    task.load("mini")
    assert task.tokenizer_corpus("mini") == list(text_rows()["text"]) == task.tokenizer_corpus("mini")
    assert loads == ["mini"]  # fitting a tokenizer loads nothing again
    assert Counting(Args()).tokenizer_corpus("mini") and loads == ["mini", "mini"]  # nothing loaded yet: loads
