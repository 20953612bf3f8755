"""NLVR2 task: contract, the hub loader on a local fixture in the real layout, the mini source's
truth values, and learnability by the tiny ViLT."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mubench_harness.testing import TaskContract, accuracy, build_family, build_task, train_original
from mubench_nlvr2 import mini
from mubench_nlvr2.task import to_label


class TestContract(TaskContract):
    name = "nlvr2"
    model = "vilt"


def test_statements_are_true_exactly_when_the_scene_says_so():
    rng = np.random.Generator(np.random.PCG64(0))
    for _ in range(300):
        left, right = mini._scene(rng), mini._scene(rng)
        sentence, truth = mini._statement(left, right, rng)
        words = sentence.split()
        if sentence.startswith("there is a"):  # "there is a {colour} {shape} in both images"
            obj = (words[3], words[4])
            assert truth == (obj in left and obj in right)
        elif "contains" in sentence:
            obj, scene = (words[5], words[6]), left if words[1] == "left" else right
            assert truth == (obj in scene)
        elif "more" in sentence:
            shape = words[5][:-1]
            a, b = (sum(s == shape for _, s in sc) for sc in (left, right))
            assert truth == ((a > b) if words[1] == "left" else (b > a))
        else:  # "there are exactly {n} shapes in the {side} image"
            assert truth == (len(left if words[7] == "left" else right) == int(words[3]))


def test_mini_labels_are_balanced_and_noise_only_in_train():
    task = build_task("nlvr2", n_train=200, n_test=100)
    data = task.load("mini")
    assert set(data) == {"train", "test", "ood"}
    assert 0.3 < np.mean(data["test"]["label"]) < 0.7
    clean = mini.generate(200, task.args.data_seed)["label"]
    flipped = np.mean(np.asarray(clean) != np.asarray(data["train"]["label"]))
    assert 0 < flipped < 0.15  # label_noise=0.05 of training labels flipped, test untouched
    left = np.asarray(data["train"][0]["left_image"])
    assert left.shape == (mini.SIZE, mini.SIZE, 3) and left.dtype == np.uint8


def test_to_label_accepts_the_copies_encodings_and_rejects_others():
    assert [to_label(v, "x") for v in (True, False, 1, 0, "True", "false")] == [1, 0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="here: label 'maybe'"):
        to_label("maybe", "here")


def _png(path, colour):
    Image.new("RGB", (40, 24), colour).save(path)
    return path.name


def test_hub_loader_reads_a_local_mirror_with_image_paths(tmp_path):
    """A mirror in the layout of NLVR2's json releases: image paths relative to a root, string labels,
    splits train / test / test2 (the second test set becomes the OOD split)."""
    from datasets import Dataset, DatasetDict

    images = tmp_path / "images"
    images.mkdir()
    red, blue = _png(images / "red.png", (255, 0, 0)), _png(images / "blue.png", (0, 0, 255))
    split = lambda n: Dataset.from_dict({  # noqa: E731
        "identifier": [f"id-{i}" for i in range(n)], "left_image": [red] * n, "right_image": [blue] * n,
        "sentence": ["The left image is red."] * n, "label": ["True", "False"] * (n // 2)})
    DatasetDict(train=split(4), test=split(2), test2=split(2)).save_to_disk(tmp_path / "mirror")
    task = build_task("nlvr2", path=str(tmp_path / "mirror"), image_root=str(images))
    data = task.load("hub")
    assert set(data) == {"train", "test", "ood"} and len(data["ood"]) == 2
    assert data["train"].features["label"].names == ["False", "True"]
    assert data["train"]["label"] == [1, 0, 1, 0]
    first = data["train"][0]
    assert np.asarray(first["left_image"])[0, 0].tolist() == [255, 0, 0]


def test_hub_loader_with_embedded_images_and_renamed_columns(tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image as ImageFeature, Value

    img = Image.new("RGB", (16, 16), (0, 255, 0))
    feats = Features({"img_l": ImageFeature(), "img_r": ImageFeature(), "text": Value("string"),
                      "answer": ClassLabel(names=["True", "False"])})  # reversed order: mapped by name
    ds = Dataset.from_dict({"img_l": [img, img], "img_r": [img, img], "text": ["a", "b"], "answer": [0, 1]}, features=feats)
    DatasetDict(train=ds, test=ds).save_to_disk(tmp_path / "m")
    task = build_task("nlvr2", path=str(tmp_path / "m"), left_column="img_l", right_column="img_r",
                      sentence_column="text", label_column="answer", max_length=8)
    data = task.load("hub")
    assert "ood" not in data  # this copy has no second test set
    assert data["train"]["label"] == [1, 0]
    with pytest.raises(ValueError, match=r"missing columns \['left_image'"):
        build_task("nlvr2", path=str(tmp_path / "m")).load("hub")


@pytest.mark.slow  # trains with the task recipe: about a minute on a free CPU thread
def test_tiny_vilt_learns_mini_above_chance_and_overfits():
    task = build_task("nlvr2")
    data = task.load("mini")
    built = build_family("vilt").build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    model = train_original(task, built, train, seed=0)
    train_acc, test_acc = accuracy(task, model, train), accuracy(task, model, test)
    assert test_acc > task.chance(test) + 0.1, (train_acc, test_acc, task.chance(test))
    assert train_acc > test_acc


def test_mini_generation_itself_is_deterministic():
    """``load('mini')`` reuses one DatasetDict per process; the generator behind it must repeat too."""
    task = build_task("nlvr2", n_train=30, n_test=20)
    a, b = task._mini(), task._mini()
    assert a is not b and a["train"][:] == b["train"][:] and a["ood"][:] == b["ood"][:]
