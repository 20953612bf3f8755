"""Speech Commands task: contract, the hub loader on a local fixture in the real schema (audio decoded
with soundfile), the espeak-ng mini source, and learnability by a tiny audio model."""
from __future__ import annotations

import io

import numpy as np
import pytest

from mubench_harness.testing import TaskContract, accuracy, build_family, build_task, train_original
from mubench_speechcommands import synth
from mubench_speechcommands.task import LABELS, fix_length

LEARNER = "whisper"  # the tiny family that learns the mini keywords fastest


class TestContract(TaskContract):
    name = "speechcommands"
    model = LEARNER


def _wav(wave: np.ndarray, rate: int) -> bytes:
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, wave, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_hub_loader_reads_a_mirror_in_the_real_schema(tmp_path):
    """The hub dataset's columns (file, audio, label, is_unknown, speaker_id, utterance_id) with an
    ``Audio`` column; clips longer than 1 s are centre-cropped, shorter ones padded, 8 kHz resampled."""
    from datasets import Audio, ClassLabel, Dataset, DatasetDict

    long = np.linspace(-0.5, 0.5, 24000, dtype=np.float32)
    short = np.full(8000, 0.25, dtype=np.float32)
    low_rate = np.full(8000, 0.1, dtype=np.float32)  # 1 s at 8 kHz
    ds = Dataset.from_dict({
        "file": ["_silence_/noise.wav", "yes/a_nohash_0.wav", "cat/b_nohash_1.wav"],
        "audio": [{"bytes": _wav(long, 16000), "path": "noise.wav"}, {"bytes": _wav(short, 16000), "path": "a.wav"},
                  {"bytes": _wav(low_rate, 8000), "path": "b.wav"}],
        "label": [35, 0, 22],
        "is_unknown": [False, False, True],
        "speaker_id": ["None", "a", "b"],
        "utterance_id": [0, 0, 1],
    })
    # struct -> Audio is a storage cast (encoding arrays would need torchcodec)
    ds = ds.cast_column("audio", Audio(sampling_rate=16000)).cast_column("label", ClassLabel(names=LABELS["v0.02"]))
    DatasetDict(train=ds, validation=ds, test=ds).save_to_disk(tmp_path / "sc")
    data = build_task("speechcommands", path=str(tmp_path / "sc")).load("hub")
    assert set(data) == {"train", "test"}
    audio = np.asarray(data["train"].with_format("numpy")["audio"])
    assert audio.shape == (3, 16000)
    np.testing.assert_allclose(audio[0], long[4000:20000], atol=1e-6)  # centre crop
    assert np.allclose(audio[1, :8000], 0.25) and np.allclose(audio[1, 8000:], 0.0)  # padded
    assert abs(float(audio[2, 2000:14000].mean()) - 0.1) < 0.01  # resampled to 16 kHz, full second
    assert data["train"]["label"] == [35, 0, 22] and data["train"].features["label"].names[35] == "_silence_"


def test_hub_id_is_read_through_the_shared_hub_loader(monkeypatch):
    """google/speech_commands is a loading-script dataset: the task goes through load_hub_dataset,
    which falls back to the hub's parquet export, with the v0.02 configuration."""
    from mubench_harness import dataset_sources

    asked = []
    monkeypatch.setattr(dataset_sources, "load_hub_dataset", lambda *a, **kw: asked.append((a, kw)) or {})
    with pytest.raises(ValueError, match="split 'train' not in google/speech_commands"):
        build_task("speechcommands").load("hub")
    assert asked == [(("google/speech_commands", "v0.02"), {})]


def test_hub_loader_rejects_other_label_sets(tmp_path):
    from datasets import Audio, ClassLabel, Dataset, DatasetDict

    ds = Dataset.from_dict({"audio": [{"bytes": _wav(np.zeros(100, np.float32), 16000), "path": "x.wav"}], "label": [0]})
    ds = ds.cast_column("audio", Audio()).cast_column("label", ClassLabel(names=["yes", "no"]))
    DatasetDict(train=ds, test=ds).save_to_disk(tmp_path / "bad")
    with pytest.raises(ValueError, match="are not the v0.02 labels"):
        build_task("speechcommands", path=str(tmp_path / "bad")).load("hub")


def test_v002_has_36_classes_commands_first():
    task = build_task("speechcommands")
    assert task.num_classes == 36 and task.labels[:10] == ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
    assert build_task("speechcommands", config="v0.01").num_classes == 31
    with pytest.raises(ValueError, match="not v0.02 labels"):
        build_task("speechcommands", keywords=["yes", "hello"])


def test_fix_length():
    assert fix_length(np.ones(100)).shape == (16000,) and fix_length(np.arange(20000.0))[0] == 2000


def test_mini_is_one_second_keywords_and_silence():
    data = build_task("speechcommands").load("mini")
    train = data["train"]
    audio = np.asarray(train.with_format("numpy")["audio"])
    assert audio.shape[1] == 16000 and audio.dtype == np.float32
    names = train.features["label"].names
    present = {names[y] for y in train["label"]}
    assert present == {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_silence_"}
    # a spoken keyword is much louder than its silence clips' background noise
    labels = np.asarray(train["label"])
    assert np.abs(audio[labels == 0]).max(1).mean() > 3 * np.abs(audio[labels == 35]).std(1).mean()


def test_missing_espeak_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Debian package 'espeak-ng'"):
        synth.espeak()


@pytest.mark.slow  # trains with the task recipe: about a minute on a free CPU thread
def test_tiny_model_learns_mini_above_chance_and_overfits():
    task = build_task("speechcommands")
    data = task.load("mini")
    built = build_family(LEARNER).build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    model = train_original(task, built, train, seed=0)
    train_acc, test_acc = accuracy(task, model, train), accuracy(task, model, test)
    assert test_acc > task.chance(test) + 0.2, (train_acc, test_acc, task.chance(test))
    assert train_acc > test_acc


def test_synthesis_is_deterministic_and_cached_outside_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("MUBENCH_CACHE", str(tmp_path))
    first = synth.generate(["yes", "no"], 2, 2, True, 7)
    files = list((tmp_path / "speechcommands").glob("mini-*.npz"))
    assert len(files) == 1
    files[0].unlink()  # synthesise again from scratch: the same arrays
    again = synth.generate(["yes", "no"], 2, 2, True, 7)
    assert first["audio"].shape == (2 * 2 * 2 + 2 * 2, 16000)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert first["label"].tolist() == [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 2]
