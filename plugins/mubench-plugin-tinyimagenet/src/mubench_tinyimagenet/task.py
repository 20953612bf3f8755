"""Tiny ImageNet text-to-image task: real loading (hub or mirror), the mini shapes, the fixed judge."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mubench_harness.contracts import TrainRecipe
from mubench_harness.generative.diffusion import TextToImageTask
from mubench_harness.generative.judge import train_judge
from mubench_harness.generative.settings import for_source
from mubench_harness.generative.sources import load_hub_or_mirror, require_columns

from . import GENERATION
from .mini import CLASSES, shape_images

HUB_IMAGE_SIZE = 64  # Tiny ImageNet's native resolution; the model's is reached in prepare_batch


class HFJudge(nn.Module):
    """A hub image classifier behind the judge interface: [-1, 1] images → its logits."""

    def __init__(self, model, mean, std, size: int):
        super().__init__()
        self.model, self.size = model, size
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, images):
        x = torch.nn.functional.interpolate((images + 1) / 2, size=(self.size, self.size), mode="bilinear")
        return self.model(pixel_values=(x - self.mean) / self.std).logits


def read_words(path: str) -> dict[str, str]:
    """Tiny ImageNet's ``words.txt``: ``wnid<TAB>synonym, synonym`` → the first synonym."""
    words = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        wnid, sep, names = line.partition("\t")
        if not sep:
            raise ValueError(f"{path}:{n}: expected 'wnid<TAB>names'")
        words[wnid.strip()] = names.split(",")[0].strip()
    return words


@functools.lru_cache(maxsize=4)
def _mini(n_per_class: int, n_test_per_class: int, size: int, seed: int):
    """The mini DatasetDict, built once per process and settings (drawing and PNG-encoding the images is
    the slow part; the result is deterministic and never modified in place)."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image
    from PIL import Image as PILImage

    raw = shape_images(n_per_class, n_test_per_class, size, seed)
    features = Features({"image": Image(), "label": ClassLabel(names=CLASSES)})
    return DatasetDict({k: Dataset.from_dict({"image": [PILImage.fromarray(x) for x in v["image"]],
                                              "label": v["label"]}, features=features) for k, v in raw.items()})


class TinyImageNetTask(TextToImageTask):
    stratify_column = "label"
    #: ~190 steps: the tiny pixel-space UNet then draws the prompted class ~70 % of the time (25 % untrained)
    recipe = TrainRecipe(epochs=30, lr=2e-3, batch_size=32, optimizer="adamw")

    @property
    def sampling(self):
        """The args' sampling, or the loaded source's default (``mubench_tinyimagenet.GENERATION``)."""
        return for_source(self.args, "sampling", self.source, GENERATION)

    def __init__(self, args):
        super().__init__(args)
        self.source = "mini"
        self.class_names: list[str] = list(CLASSES)
        self._train = None
        self._judge: nn.Module | None = None

    def load(self, source):
        from datasets import DatasetDict

        a = self.args
        self.source = source
        if source == "mini":
            data = _mini(a.n_per_class, a.n_test_per_class, a.image_size, a.data_seed)
        elif source == "hub":
            where = a.path or a.hub_id
            loaded = load_hub_or_mirror(a.hub_id, a.path, ("train", a.test_split))
            if "train" not in loaded or a.test_split not in loaded:
                raise ValueError(f"tinyimagenet {where}: needs splits 'train' and {a.test_split!r}, found {list(loaded)}")
            for split, ds in loaded.items():
                require_columns(ds, ("image", "label"), f"tinyimagenet {where} [{split}]")
            train = loaded["train"]
            if a.train_limit is not None and a.train_limit < len(train):
                train = train.shuffle(seed=0).select(range(a.train_limit))
            data = DatasetDict({"train": train.select_columns(["image", "label"]),
                                "test": loaded[a.test_split].select_columns(["image", "label"])})
        else:
            raise ValueError(f"tinyimagenet: unknown source {source!r} (hub or mini)")
        names = data["train"].features["label"].names
        words = read_words(a.words_path) if a.words_path else {}
        self.class_names = [words.get(n, n).replace("_", " ") for n in names]
        if self._train is None or self._train[0] != source:
            self._train, self._judge = (source, data["train"]), None
        return data

    def tokenizer_corpus(self, source):
        if source == "mini":  # the captions are all the text there is: no need to draw the images
            return self.captions(torch.arange(len(CLASSES))) + [""]
        return super().tokenizer_corpus(source)

    def images_and_labels(self, dataset):
        size = self.args.image_size if self.source == "mini" else HUB_IMAGE_SIZE
        images = []
        for img in dataset["image"]:
            img = img.convert("RGB")
            if img.size != (size, size):
                img = img.resize((size, size))
            images.append(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))
        return torch.from_numpy(np.stack(images)), torch.tensor(list(dataset["label"]), dtype=torch.long)

    def captions(self, labels):
        return [self.args.prompt_template.format(label=self.class_names[int(k)]) for k in labels]

    def image_classifier(self):
        if self._judge is not None:
            return self._judge
        a = self.args
        if a.classifier_id is not None:
            from transformers import AutoImageProcessor, AutoModelForImageClassification

            proc = AutoImageProcessor.from_pretrained(a.classifier_id)
            size = proc.size.get("height") or proc.size.get("shortest_edge")
            model = AutoModelForImageClassification.from_pretrained(a.classifier_id)
            self._judge = HFJudge(model, proc.image_mean, proc.image_std, size).eval().requires_grad_(False)
        else:
            if self._train is None:
                self.load(self.source)
            pixels, labels = self.images_and_labels(self._train[1])
            self._judge = train_judge(pixels, labels, len(self.class_names), size=pixels.shape[-1],
                                      epochs=a.judge_epochs, seed=0)
        return self._judge
