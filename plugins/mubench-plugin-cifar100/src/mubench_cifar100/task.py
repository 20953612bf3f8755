"""The CIFAR-100 task (imports torch and datasets; loaded lazily through the spec's factory).

Images are encoded once as uint8 [N, 3, H, W] (50k real CIFAR images are 150 MB this way) and turned
into normalised ``pixel_values`` per batch: resized to the model's input size (224 at real scale) and
normalised with the model's image-processor statistics, so no 224x224 float copy of the dataset is
ever held in memory. The resize goes straight to the processor's size (no centre crop: CIFAR's
32x32 images have no border to crop, unlike the ImageNet photos ConvNeXt's crop_pct was made for).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mubench_harness.contracts import Built, ClassificationTask, TrainRecipe
from mubench_harness.data import Rows
from mubench_harness.dataset_sources import load_hub_or_local

from .images import SIZE, corrupt_images, render_digits

#: normalisation of tiny models (no image processor): pixels to [-1, 1]
TINY_MEAN = (0.5, 0.5, 0.5)
TINY_STD = (0.5, 0.5, 0.5)


def image_geometry(processor) -> tuple[tuple[int, int] | None, tuple[float, ...], tuple[float, ...]]:
    """(target height/width or None to keep 32x32, mean, std) of a model's image processor."""
    if processor is None:
        return None, TINY_MEAN, TINY_STD
    size = getattr(processor, "size", None)

    def field(key):  # a plain dict, or transformers' SizeDict with attributes
        value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
        return int(value) if value is not None else None

    if field("height") and field("width"):
        hw = (field("height"), field("width"))
    elif field("shortest_edge"):
        hw = (field("shortest_edge"),) * 2
    else:
        raise ValueError(f"image processor {type(processor).__name__} has no usable size: {size}")
    mean = tuple(float(v) for v in (processor.image_mean if processor.image_mean is not None else TINY_MEAN))
    std = tuple(float(v) for v in (processor.image_std if processor.image_std is not None else TINY_STD))
    return hw, mean, std


def to_pixel_values(pixels: torch.Tensor, geometry) -> torch.Tensor:
    """uint8 [B, 3, h, w] -> float [B, 3, H, W]: scale to [0, 1], resize bilinearly, normalise."""
    hw, mean, std = geometry
    x = pixels.float() / 255.0
    if hw is not None and tuple(x.shape[-2:]) != hw:
        x = F.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=False)
    m = torch.tensor(mean, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


@functools.lru_cache(maxsize=4)
def _mini_dataset(tints: int, seed: int):
    """The mini DatasetDict (deterministic; Arrow datasets are immutable, so one per process is shared)."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image

    images, fine, coarse = render_digits(tints, seed)
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    order = rng.permutation(len(fine))
    n_train = int(len(order) * 0.6)
    feats = Features({"img": Image(), "fine_label": ClassLabel(num_classes=100), "coarse_label": ClassLabel(num_classes=20)})

    def make(pos, imgs):
        return Dataset.from_dict({"img": [imgs[i] for i in pos], "fine_label": fine[pos].tolist(),
                                  "coarse_label": coarse[pos].tolist()}, features=feats)

    train_pos, test_pos = order[:n_train], order[n_train:]
    # the shifted test set: the same test images, each corrupted (noise, blur or low contrast)
    ood_images, _ = corrupt_images(images[test_pos], seed + 2)
    ood = Dataset.from_dict({"img": list(ood_images), "fine_label": fine[test_pos].tolist(),
                             "coarse_label": coarse[test_pos].tolist()}, features=feats)
    return DatasetDict({"train": make(train_pos, images), "test": make(test_pos, images), "ood": ood})


def read_cifar100c_release(folder: Path, corruptions: list[str] | None, severity: int | None):
    """CIFAR-100-C as Hendrycks & Dietterich release it (zenodo.org/records/3555552, ``CIFAR-100-C.tar``):
    ``labels.npy`` and one ``<corruption>.npy`` per corruption, uint8 [5·n, 32, 32, 3] holding the n test
    images at severity 1, then 2, ... 5. Only the corruptions and severity asked for are read (each file is
    mapped, not loaded: the release is 2.9 GB), as rows ``img, fine_label, corruption_name, corruption_level``."""
    from datasets import Dataset, Features, Image, Value

    labels = np.load(folder / "labels.npy")
    if len(labels) % 5:
        raise ValueError(f"cifar100: {folder / 'labels.npy'} holds {len(labels)} labels, not 5 severities of the test set")
    n = len(labels) // 5
    present = sorted(f.stem for f in folder.glob("*.npy") if f.stem != "labels")
    names = present if corruptions is None else list(corruptions)
    unknown = [c for c in names if c not in present]
    if unknown:
        raise ValueError(f"cifar100: CIFAR-100-C in {str(folder)!r} has no corruption(s) {unknown} (it has: {present})")
    levels = [severity] if severity is not None else [1, 2, 3, 4, 5]
    images, fine, kinds, levels_col = [], [], [], []
    for name in names:
        arr = np.load(folder / f"{name}.npy", mmap_mode="r")
        if arr.shape != (len(labels), SIZE, SIZE, 3) or arr.dtype != np.uint8:
            raise ValueError(f"cifar100: {folder / (name + '.npy')} is {arr.dtype} {arr.shape}, "
                             f"not uint8 ({len(labels)}, {SIZE}, {SIZE}, 3)")
        for level in levels:
            block = slice((level - 1) * n, level * n)
            images += list(np.asarray(arr[block]))
            fine += labels[block].astype(np.int64).tolist()
            kinds += [name] * n
            levels_col += [level] * n
    feats = Features({"img": Image(), "fine_label": Value("int64"), "coarse_label": Value("int64"),
                      "corruption_name": Value("string"), "corruption_level": Value("int64")})
    return Dataset.from_dict({"img": images, "fine_label": fine, "coarse_label": [-1] * len(fine),
                              "corruption_name": kinds, "corruption_level": levels_col}, features=feats
                             ).select_columns(["img", "fine_label", "coarse_label"])


class Cifar100Task(ClassificationTask):
    # tiny models on the mini images: Adam, a few epochs; real scale fine-tunes with the same rule
    recipe = TrainRecipe(epochs=20, lr=2e-3, batch_size=32, optimizer="adam")
    stratify_column = "fine_label"

    def __init__(self, args):
        super().__init__(args)
        self.num_classes = 100
        self._geometry = image_geometry(None)

    # -- data -------------------------------------------------------------------------------------
    def load(self, source: str):
        if source == "mini":
            return self._load_mini()
        if source == "hub":
            return self._load_hub()
        raise ValueError(f"cifar100: unknown source {source!r} (hub or mini)")

    def _load_mini(self):
        from datasets import DatasetDict

        # a fresh dict of the shared immutable splits: a caller adding or dropping a split changes nothing here
        return DatasetDict(dict(_mini_dataset(self.args.mini_tints, self.args.mini_seed)))
    def _load_hub(self):
        from datasets import Dataset, DatasetDict

        a = self.args
        raw = load_hub_or_local(a.hub_id, a.path, task="cifar100", splits=("train", "test"))
        out = {name: self._real_schema(raw[name], a.path or a.hub_id) for name in ("train", "test")}
        if a.ood_hub_id or a.ood_path:
            out["ood"] = self._load_cifar100c()
        else:  # no CIFAR-100-C named: the same kinds of corruption applied to the real test set
            test = out["test"]
            imgs = np.stack([np.asarray(im.convert("RGB")) for im in test["img"]])
            corrupted, _ = corrupt_images(imgs, 2)
            out["ood"] = Dataset.from_dict({"img": list(corrupted), "fine_label": test["fine_label"],
                                           "coarse_label": test["coarse_label"]}, features=test.features)
        return DatasetDict(out)

    @staticmethod
    def _real_schema(ds, where: str):
        """Map known CIFAR column spellings onto ``img`` / ``fine_label`` (uoft-cs/cifar100's own)."""
        renames = {"image": "img", "label": "fine_label"}
        ds = ds.rename_columns({k: v for k, v in renames.items() if k in ds.column_names and v not in ds.column_names})
        for col in ("img", "fine_label"):
            if col not in ds.column_names:
                raise ValueError(f"cifar100: dataset {where!r} has no column {col!r} (columns: {ds.column_names})")
        if "coarse_label" not in ds.column_names:
            ds = ds.add_column("coarse_label", [-1] * len(ds))
        return ds.select_columns(["img", "fine_label", "coarse_label"])

    def _load_cifar100c(self):
        a = self.args
        if a.ood_path and (Path(a.ood_path) / "labels.npy").is_file():  # the authors' release, as extracted
            return read_cifar100c_release(Path(a.ood_path), a.ood_corruptions, a.ood_severity)
        raw = load_hub_or_local(a.ood_hub_id, a.ood_path, task="cifar100")
        ds = raw["test"] if "test" in raw else raw[next(iter(raw))]
        if a.ood_corruptions is not None:
            keep = set(a.ood_corruptions)
            ds = ds.filter(lambda names: [n in keep for n in names], input_columns="corruption_name", batched=True)
        if a.ood_severity is not None:
            ds = ds.filter(lambda lv: [v == a.ood_severity for v in lv], input_columns="corruption_level", batched=True)
        if len(ds) == 0:
            raise ValueError(f"cifar100: no CIFAR-100-C rows left in {a.ood_path or a.ood_hub_id!r} after filtering")
        return self._real_schema(ds, a.ood_path or a.ood_hub_id)

    def encode(self, dataset, built: Built) -> Rows:
        self._geometry = image_geometry(built.processor if built is not None else None)
        chunks = []
        for part in dataset.select_columns(["img"]).iter(batch_size=1000):
            arr = []
            for im in part["img"]:
                im = im.convert("RGB")
                if im.size != (SIZE, SIZE):  # CIFAR is 32x32; a mirror with other sizes is brought to it
                    im = im.resize((SIZE, SIZE), resample=3)
                arr.append(np.asarray(im, dtype=np.uint8))
            chunks.append(torch.from_numpy(np.stack(arr)).permute(0, 3, 1, 2).contiguous())
        labels = torch.tensor(np.asarray(dataset["fine_label"], dtype=np.int64))
        if (labels < 0).any() or (labels >= self.num_classes).any():
            raise ValueError("cifar100: fine_label outside 0..99")
        return Rows({"pixels": torch.cat(chunks) if chunks else torch.zeros(0, 3, SIZE, SIZE, dtype=torch.uint8), "labels": labels})

    # -- per batch --------------------------------------------------------------------------------
    def prepare_batch(self, batch, built):
        if "pixels" not in batch:
            return batch
        out = {k: v for k, v in batch.items() if k != "pixels"}
        out["pixel_values"] = to_pixel_values(batch["pixels"], image_geometry(built.processor if built is not None else None))
        return out

    def model_inputs(self, batch):
        # Methods that hand raw batches to the primitives still work: convert with the geometry of
        # the model the rows were last encoded for.
        if "pixels" in batch:
            return {"pixel_values": to_pixel_values(batch["pixels"], self._geometry)}
        return {"pixel_values": batch["pixel_values"]}
