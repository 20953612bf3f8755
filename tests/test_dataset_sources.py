"""The classification tasks' hub-or-local-mirror loader (offline: local mirrors only)."""
import pytest

from mubench_harness.dataset_sources import keep_latest, load_hub_or_local, read_local_mirror


def _save(tmp_path, splits):
    from datasets import Dataset, DatasetDict

    folder = tmp_path / "mirror"
    DatasetDict({s: Dataset.from_dict({"text": [s], "label": [0]}) for s in splits}).save_to_disk(str(folder))
    return str(folder)


def test_a_save_to_disk_mirror_is_read_and_wins_over_the_hub_id(tmp_path):
    path = _save(tmp_path, ("train", "test"))
    raw = load_hub_or_local("never/fetched", path, task="demo", splits=("train", "test"))
    assert raw["test"]["text"] == ["test"]


def test_a_folder_of_data_files_goes_through_load_dataset(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\nhello,1\n")
    assert read_local_mirror(str(tmp_path))["train"]["text"] == ["hello"]


def test_missing_splits_and_paths_are_named(tmp_path):
    path = _save(tmp_path, ("train",))
    with pytest.raises(ValueError, match=r"demo: dataset .*mirror' lacks split\(s\) \['test'\]"):
        load_hub_or_local(None, path, task="demo", splits=("train", "test"))
    assert set(load_hub_or_local(None, path, task="demo")) == {"train"}  # no splits asked: none required
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_local_mirror(str(tmp_path / "nowhere"))


def test_keep_latest_builds_once_per_key_and_holds_only_the_last():
    cache, built = {}, []

    def build(tag):
        return lambda: built.append(tag) or tag

    assert keep_latest(cache, "a", build("a")) == "a" and keep_latest(cache, "a", build("again")) == "a"
    assert keep_latest(cache, "b", build("b")) == "b" and cache == {"b": "b"}
    assert built == ["a", "b"]


def test_a_loading_script_dataset_is_read_from_the_parquet_export(monkeypatch):
    import datasets

    from mubench_harness.dataset_sources import PARQUET_EXPORT, load_hub_dataset

    calls = []

    def fake(hub_id, *args, **kwargs):
        calls.append((hub_id, args, kwargs))
        if kwargs.get("revision") != PARQUET_EXPORT:
            raise RuntimeError("Dataset scripts are no longer supported, but found speech_commands.py")
        return {"train": "rows"}

    monkeypatch.setattr(datasets, "load_dataset", fake)
    with pytest.warns(UserWarning, match="loading-script dataset; reading the hub's parquet export"):
        assert load_hub_dataset("google/speech_commands", "v0.02") == {"train": "rows"}
    assert calls == [("google/speech_commands", ("v0.02",), {}),
                     ("google/speech_commands", ("v0.02",), {"revision": PARQUET_EXPORT})]
    calls.clear()
    with pytest.raises(RuntimeError, match="no longer supported"):  # a pinned revision is not replaced
        load_hub_dataset("google/speech_commands", "v0.02", revision="abc123")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("other")))
    with pytest.raises(RuntimeError, match="other"):
        load_hub_dataset("x/y")
