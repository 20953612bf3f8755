import numpy as np
import pytest
import torch

from mubench_harness.testing import TaskContract, accuracy, build_family, build_task, fit_on_mini


class TestContract(TaskContract):
    name = "cifar100"
    model = "resnet"


def _real_schema_fixture(tmp_path, n_train=12, n_test=6):
    """A tiny DatasetDict in uoft-cs/cifar100's schema (img, fine_label, coarse_label), saved to disk."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image

    rng = np.random.default_rng(0)
    feats = Features({"img": Image(), "fine_label": ClassLabel(num_classes=100), "coarse_label": ClassLabel(num_classes=20)})

    def split(n):
        return Dataset.from_dict({"img": [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(n)],
                                  "fine_label": [int(v) for v in rng.integers(0, 100, n)],
                                  "coarse_label": [int(v) for v in rng.integers(0, 20, n)]}, features=feats)

    dd = DatasetDict({"train": split(n_train), "test": split(n_test)})
    dd.save_to_disk(str(tmp_path / "cifar100"))
    return dd


def test_hub_source_reads_a_local_mirror_in_the_real_schema(tmp_path):
    dd = _real_schema_fixture(tmp_path)
    task = build_task("cifar100", path=str(tmp_path / "cifar100"))
    data = task.load("hub")
    assert len(data["train"]) == 12 and len(data["test"]) == 6
    assert data["train"]["fine_label"] == dd["train"]["fine_label"]
    # without a CIFAR-100-C source the OOD split is the test set, corrupted
    assert data["ood"]["fine_label"] == dd["test"]["fine_label"]
    built = build_family("resnet").build(task, "tiny", seed=0)
    rows = task.encode(data["train"], built)
    assert rows["pixels"].shape == (12, 3, 32, 32) and rows["pixels"].dtype == torch.uint8
    first = np.array(dd["train"][0]["img"].convert("RGB"))
    assert torch.equal(rows["pixels"][0], torch.from_numpy(first).permute(2, 0, 1))


def test_cifar100c_mirror_is_filtered_by_corruption_and_severity(tmp_path):
    from datasets import Dataset, DatasetDict, Features, Image, Value

    _real_schema_fixture(tmp_path)
    rng = np.random.default_rng(1)
    names = ["gaussian_noise", "fog", "gaussian_noise", "fog", "gaussian_noise", "fog"]
    levels = [1, 1, 3, 3, 5, 5]
    feats = Features({"image": Image(), "label": Value("int64"), "corruption_name": Value("string"), "corruption_level": Value("int64")})
    c = Dataset.from_dict({"image": [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in names],
                           "label": [7, 8, 9, 10, 11, 12], "corruption_name": names, "corruption_level": levels}, features=feats)
    DatasetDict({"test": c}).save_to_disk(str(tmp_path / "c"))
    task = build_task("cifar100", path=str(tmp_path / "cifar100"), ood_path=str(tmp_path / "c"),
                      ood_corruptions=["gaussian_noise"], ood_severity=3)
    ood = task.load("hub")["ood"]
    assert ood["fine_label"] == [9]
    with pytest.raises(ValueError, match="no CIFAR-100-C rows"):
        build_task("cifar100", path=str(tmp_path / "cifar100"), ood_path=str(tmp_path / "c"), ood_severity=2).load("hub")


def test_missing_mirror_and_bad_source_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):  # refused with the args, before any loading
        build_task("cifar100", path=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="unknown source"):
        build_task("cifar100").load("disk")


def test_mini_has_many_classes_and_a_shifted_ood_split():
    data = build_task("cifar100").load("mini")
    labels = np.asarray(data["train"]["fine_label"])
    assert len(np.unique(labels)) == 40  # 10 digits x 4 tints
    assert np.array_equal(np.asarray(data["train"]["coarse_label"]), labels // 4)  # coarse = the digit
    assert data["ood"]["fine_label"] == data["test"]["fine_label"]
    a = np.asarray(data["test"][0]["img"], dtype=np.int16)
    b = np.asarray(data["ood"][0]["img"], dtype=np.int16)
    assert np.abs(a - b).mean() > 3  # the shift really changes the pixels


def test_real_scale_batches_are_resized_and_normalised_with_processor_statistics():
    from mubench_harness.contracts import Built
    from transformers import ConvNextImageProcessor

    task = build_task("cifar100")
    proc = ConvNextImageProcessor(size={"shortest_edge": 64}, image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.2, 0.2])
    batch = {"pixels": torch.full((2, 3, 32, 32), 255, dtype=torch.uint8), "labels": torch.tensor([1, 2]), "idx": torch.tensor([0, 1])}
    out = task.prepare_batch(batch, Built(torch.nn.Identity(), proc))
    assert out["pixel_values"].shape == (2, 3, 64, 64) and "pixels" not in out
    assert torch.allclose(out["pixel_values"][0, :, 0, 0], torch.tensor([2.5, 3.0, 3.5]))


def test_tiny_resnet_learns_mini_well_above_chance_and_overfits():
    fit = fit_on_mini("cifar100", "resnet")
    task, built = fit.task, fit.built
    assert fit.test_accuracy > 10 * task.chance(fit.test), fit.accuracies
    assert fit.train_accuracy > fit.test_accuracy + 0.05, fit.accuracies
    # the corrupted test set is harder than the clean one: the transfer analysis has a real shift
    assert accuracy(task, fit.model, task.encode(task.load("mini")["ood"], built), built) < fit.test_accuracy


def test_mini_rendering_is_deterministic_without_the_in_process_cache():
    from mubench_cifar100.task import _mini_dataset

    a, b = _mini_dataset.__wrapped__(4, 0), _mini_dataset.__wrapped__(4, 0)
    assert a is not b
    assert a["train"]["fine_label"] == b["train"]["fine_label"]
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a["test"][:20]["img"], b["test"][:20]["img"]))
    assert _mini_dataset.__wrapped__(4, 1)["train"]["fine_label"] != a["train"]["fine_label"]  # the seed matters
