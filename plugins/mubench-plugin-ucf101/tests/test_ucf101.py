"""UCF101 task: contract, the folder and hub loaders on tiny .avi fixtures decoded with PyAV, the
mini source's classes, and learnability by the tiny VideoMAE."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mubench_harness.testing import (SpillContract, TaskContract, accuracy, build_family, build_task,
                                     train_original)
from mubench_ucf101 import mini
from mubench_ucf101.task import read_frames


class TestContract(TaskContract):
    name = "ucf101"
    model = "videomae"


def write_avi(path, frames: np.ndarray) -> None:
    """frames: uint8 [T, H, W, 3] written as an MPEG-4 AVI (the format of UCF101's files)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _ramp(t: int, value: int) -> np.ndarray:
    """t frames of 48x64 whose brightness rises frame by frame from ``value``."""
    return np.stack([np.full((48, 64, 3), min(255, value + 20 * i), np.uint8) for i in range(t)])


def test_read_frames_samples_uniformly_and_resizes(tmp_path):
    write_avi(tmp_path / "a.avi", _ramp(10, 20))
    frames = read_frames(tmp_path / "a.avi", 4, 16, "a.avi")
    assert frames.shape == (4, 3, 16, 16) and frames.dtype == np.uint8
    means = frames.reshape(4, -1).mean(1)
    assert means[0] < 35 and means[-1] > 190 and np.all(np.diff(means) > 0)  # frames 0, 3, 6, 9
    with pytest.raises(ValueError, match="bad.avi: cannot decode"):
        (tmp_path / "bad.avi").write_bytes(b"not a video")
        read_frames(tmp_path / "bad.avi", 4, 16, "bad.avi")


def test_folder_loader_reads_class_folders_and_ucf101_ds(tmp_path):
    root = tmp_path / "ucf"
    for split in ("train", "test"):
        for k, cls in enumerate(("ApplyEyeMakeup", "Archery")):
            write_avi(root / split / cls / f"v_{cls}_g01_c01.avi", _ramp(6, 40 + 100 * k))
    write_avi(tmp_path / "ds" / "Archery" / "shifted.avi", _ramp(6, 140))
    task = build_task("ucf101", path=str(root), ood_path=str(tmp_path / "ds"), num_classes=2, num_frames=4, image_size=16)
    data = task.load("hub")
    assert set(data) == {"train", "test", "ood"}
    assert data["train"].features["label"].names == ["ApplyEyeMakeup", "Archery"]
    built = build_family("videomae").build(build_task("ucf101"), "tiny", seed=0)
    rows = task.encode(data["train"], built)
    assert rows["pixel_values"].shape == (2, 4, 3, 16, 16) and rows["labels"].tolist() == [0, 1]
    assert task.encode(data["ood"], built)["labels"].tolist() == [1]
    with pytest.raises(ValueError, match="2 classes found, expected 101"):
        build_task("ucf101", path=str(root)).load("hub")


def test_hub_loader_reads_video_bytes(tmp_path):
    """A hub copy stored as parquet with the video bytes in a column, loaded through load_dataset."""
    from datasets import ClassLabel, Dataset, Features, Value

    write_avi(tmp_path / "x.avi", _ramp(6, 30))
    blob = (tmp_path / "x.avi").read_bytes()
    feats = Features({"clip": {"bytes": Value("binary"), "path": Value("string")}, "action": ClassLabel(names=["a", "b"])})
    (tmp_path / "hub" / "data").mkdir(parents=True)
    for split in ("train", "test"):
        Dataset.from_dict({"clip": [{"bytes": blob, "path": "x.avi"}] * 2, "action": [0, 1]}, features=feats).to_parquet(
            tmp_path / "hub" / "data" / f"{split}-00000-of-00001.parquet")
    task = build_task("ucf101", hub_id=str(tmp_path / "hub"), video_column="clip", label_column="action", num_classes=2,
                      num_frames=3, image_size=8)
    data = task.load("hub")
    built = build_family("videomae").build(build_task("ucf101"), "tiny", seed=0)
    rows = task.encode(data["test"], built)
    assert rows["pixel_values"].shape == (2, 3, 3, 8, 8) and rows["labels"].tolist() == [0, 1]


def test_mini_classes_are_shape_times_motion_and_motion_is_visible():
    task = build_task("ucf101", clips_per_class=4)
    assert task.num_classes == 12
    data = task.load("mini")
    assert data["train"].features["label"].names[:4] == ["circle_left", "circle_right", "circle_up", "circle_down"]
    rng = np.random.Generator(np.random.PCG64(0))
    clip = mini.clip("square", "right", rng, 8, 32).astype(np.float32)
    diff = np.abs(clip[-1] - clip[0]).sum(0)  # where the frames differ: the moving square
    cols = np.flatnonzero(diff.sum(0) > 0)
    assert cols.size and clip.shape == (8, 3, 32, 32)
    with pytest.raises(ValueError, match="unknown motion 'spin'"):
        mini.clip("square", "spin", rng, 8, 32)


@pytest.mark.slow  # trains with the task recipe: about a minute on a free CPU thread
def test_tiny_videomae_learns_mini_above_chance_and_overfits():
    task = build_task("ucf101")
    data = task.load("mini")
    built = build_family("videomae").build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    model = train_original(task, built, train, seed=0)
    train_acc, test_acc = accuracy(task, model, train), accuracy(task, model, test)
    assert test_acc > task.chance(test) + 0.15, (train_acc, test_acc, task.chance(test))
    assert train_acc > test_acc
    assert isinstance(train["pixel_values"], torch.Tensor)


def test_mini_generation_itself_is_deterministic():
    """``load('mini')`` reuses one DatasetDict per process; the generator behind it must repeat too."""
    task = build_task("ucf101", clips_per_class=4)
    a, b = task._mini(), task._mini()
    assert a is not b and a["train"][:] == b["train"][:] and a["ood"]["label"] == b["ood"]["label"]


class TestSpill(SpillContract):
    name, family, module = "ucf101", "videomae", "mubench_ucf101.task"
