import os

import numpy as np
import pytest
import torch

from mubench_harness.testing import TaskContract, accuracy, build_family, build_task, train_original


class TestContract(TaskContract):
    name = "tinyimagenet"
    model = "stablediffusion"


def test_hub_fixture_with_real_columns_and_wordnet_names(tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image
    from PIL import Image as PILImage

    features = Features({"image": Image(), "label": ClassLabel(names=["n01443537", "n01629819"])})
    rng = np.random.default_rng(0)

    def split(n):
        return Dataset.from_dict({"image": [PILImage.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
                                            for _ in range(n)], "label": [i % 2 for i in range(n)]}, features=features)

    DatasetDict({"train": split(6), "valid": split(4)}).save_to_disk(str(tmp_path / "tin"))
    words = tmp_path / "words.txt"
    words.write_text("n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander, Salamandra\n")
    task = build_task("tinyimagenet", path=str(tmp_path / "tin"), words_path=str(words), train_limit=4)
    data = task.load("hub")
    assert len(data["train"]) == 4 and len(data["test"]) == 4
    assert task.captions(torch.tensor([0, 1])) == ["a photo of a goldfish", "a photo of a European fire salamander"]
    pixels, labels = task.images_and_labels(data["test"])
    assert pixels.shape == (4, 3, 64, 64) and pixels.dtype == torch.uint8 and labels.tolist() == [0, 1, 0, 1]
    bad = tmp_path / "bad.txt"
    bad.write_text("n01443537 goldfish\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        build_task("tinyimagenet", path=str(tmp_path / "tin"), words_path=str(bad)).load("hub")


def test_judge_trains_inside_no_grad():
    task = build_task("tinyimagenet")
    task.load("mini")
    with torch.no_grad():  # as when the first score is computed during evaluation
        judge = task.image_classifier()
    assert not any(p.requires_grad for p in judge.parameters())


def test_judge_recognises_real_images():
    task = build_task("tinyimagenet")
    data = task.load("mini")
    pixels, labels = task.images_and_labels(data["test"])
    judge = task.image_classifier()
    with torch.no_grad():
        acc = (judge(pixels.float() / 127.5 - 1).argmax(-1) == labels).float().mean()
    assert acc > 0.9
    assert task.image_classifier() is judge, "the judge is fixed: trained once per task"


def _setup():
    torch.manual_seed(0)  # training noise comes from the global RNG, which the runner seeds per cell
    task = build_task("tinyimagenet")
    data = task.load("mini")
    built = build_family("stablediffusion").build(task, "tiny", seed=0)
    return task, built, task.encode(data["train"], built), task.encode(data["test"], built)


def _eval_loss(task, built, rows):
    with torch.no_grad():
        return task.per_sample_loss(built.model.eval(), task.prepare_batch(dict(rows.columns), built)).mean()


def test_tiny_pipeline_learns_to_denoise():
    task, built, train, test = _setup()
    before = _eval_loss(task, built, test)
    train_original(task, built, train, seed=0, epochs=2)  # a short run: the full recipe is the slow test
    after = _eval_loss(task, built, test)
    assert after < 0.8 * before, (before, after)


@pytest.mark.skipif(not os.environ.get("MUBENCH_SLOW_TESTS"), reason="trains the full recipe (minutes on 1 CPU "
                    "thread); set MUBENCH_SLOW_TESTS=1")
def test_tiny_pipeline_draws_the_prompted_class():
    task, built, train, test = _setup()
    untrained = accuracy(task, built.model, test, built)
    train_original(task, built, train, seed=0)
    score = accuracy(task, built.model, test, built)
    assert score > untrained + 0.15, (untrained, score)
