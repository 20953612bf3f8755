"""Speech Commands task: contract, the hub loader on a local fixture in the real schema (audio decoded
with soundfile), the eSpeak NG mini source (libespeak-ng from a wheel, no program on PATH; voices
disjoint between train and test), and learnability and membership signal on a tiny audio model."""
from __future__ import annotations

import io
import shutil

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


def test_mini_needs_no_espeak_program_on_path(tmp_path, monkeypatch):
    """The set-up installs no Debian package: the synthesiser is the wheel's libespeak-ng, in-process."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng (nor anything else) to run
    monkeypatch.setenv("MUBENCH_CACHE", str(tmp_path / "cache"))  # synthesised now, not read back
    assert shutil.which("espeak-ng") is None
    data = synth.generate(["yes", "stop"], 2, 1, False, 3)
    assert data["audio"].shape == (4, 16000)
    loudest = np.abs(data["audio"]).max(1)
    assert (loudest > 0.1).all()  # speech, not noise: the background noise is below 0.02·4
    assert "1.52" in synth.espeak().version


def test_mini_voices_are_disjoint_between_train_and_test():
    """As the real dataset keeps speakers apart: a test clip is never an augmented copy of a training
    utterance, so test clips are true non-members for membership attacks."""
    data = build_task("speechcommands").load("mini")
    train, test = set(data["train"]["speaker_id"]), set(data["test"]["speaker_id"])
    assert not train & test and len(test) == 5 and len(train) == 11  # 30 % of 16 speakers
    names = data["test"].features["label"].names
    assert {names[y] for y in data["test"]["label"]} == {names[y] for y in data["train"]["label"]}  # every class in both


def test_missing_synthesiser_is_one_line_exit_2_before_any_output(tmp_path):
    """Without the espeakng-loader wheel, ``mubench run`` on the mini data says so in one located line
    (exit 2) and creates nothing."""
    import os
    import subprocess
    import sys

    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "espeakng_loader.py").write_text("raise ImportError(\"No module named 'espeakng_loader'\")\n")
    bench = tmp_path / "b.yaml"
    bench.write_text("name: s\nseeds: [0]\ndeletion_ratios: [5]\ntasks:\n  - name: speechcommands\n    source: mini\n"
                     "    models: [{name: whisper, scales: [tiny]}]\nunlearners: [finetune]\n")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(shadow), "MUBENCH_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "mubench_harness.cli", "run", str(bench), "--output-dir", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{bench}:6:5: "), proc.stderr
    assert "espeakng-loader" in lines[0] and "pip install" in lines[0]
    assert not out.exists()


@pytest.fixture(scope="module")
def trained():
    """The tiny learner trained on mini with the task recipe (about 20 s on a free CPU thread)."""
    task = build_task("speechcommands")
    data = task.load("mini")
    built = build_family(LEARNER).build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    return task, built, train, test, train_original(task, built, train, seed=0)


@pytest.mark.slow
def test_tiny_model_learns_mini_above_chance_and_overfits(trained):
    task, _, train, test, model = trained
    train_acc, test_acc = accuracy(task, model, train), accuracy(task, model, test)
    assert test_acc > task.chance(test) + 0.2, (train_acc, test_acc, task.chance(test))
    assert train_acc > test_acc


@pytest.mark.slow
def test_loss_attack_on_the_original_separates_train_from_test(trained):
    """The untouched original: −loss ranks its training clips (members) above the unseen voices' clips
    better than chance (measured: AUC 0.60 with 726 vs 330 clips, about 5 standard errors above ½)."""
    from mubench_harness.metrics.common import auc
    from mubench_harness.signals import compute_signals

    task, built, train, test, model = trained
    members, nonmembers = compute_signals(task, model, train, built), compute_signals(task, model, test, built)
    assert auc(-members["loss"], -nonmembers["loss"]) > 0.55


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
