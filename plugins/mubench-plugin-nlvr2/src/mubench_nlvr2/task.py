"""NLVR2 task: the hub loader, the mini source, and encoding for ViLT's two-image head."""
from __future__ import annotations

import io
import os

import numpy as np
import torch

from mubench_harness.contracts import Built, ClassificationTask, TrainRecipe
from mubench_harness.data import Rows, column_buffer

from . import mini

#: image pairs decoded and written per block while encoding (bounds the memory of decoding)
ENCODE_BLOCK = 512

#: ViLT normalises pixels with mean 0.5 and std 0.5 per channel; a processor's own values win
DEFAULT_MEAN = (0.5, 0.5, 0.5)
DEFAULT_STD = (0.5, 0.5, 0.5)
_TRUE = {"true": 1, "1": 1, "yes": 1, "false": 0, "0": 0, "no": 0}


def to_label(value, where: str) -> int:
    """NLVR2 copies store the truth value as a bool, 0/1 or 'True'/'False'; map all to 1/0."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return _TRUE[value.strip().lower()]
    raise ValueError(f"{where}: label {value!r} is not a truth value (bool, 0/1, 'True'/'False')")


def _bmp(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="BMP")
    return buf.getvalue()


#: the last built mini DatasetDict, by argument set
_MINI: dict[str, object] = {}

class NLVR2Task(ClassificationTask):
    num_classes = 2
    stratify_column = "label"
    # tiny ViLT on mini (600 pairs): train 0.98 / test 0.71 (majority 0.52; statement alone 0.52,
    # shuffled images 0.47) after 30 epochs at 7e-4, ~45 s on one free core. 1e-3 learns as fast but
    # ends noisier; 5e-4 is still on the plateau (constant predictions) for most of the 30 epochs
    recipe = TrainRecipe(epochs=30, lr=7e-4, batch_size=32, optimizer="adamw")

    def __init__(self, args):
        super().__init__(args)
        self.source: str | None = None  # the source last loaded (a tiny tokenizer is fitted on its statements)
        self._mean = torch.tensor(DEFAULT_MEAN).view(1, 1, 3, 1, 1)
        self._std = torch.tensor(DEFAULT_STD).view(1, 1, 3, 1, 1)

    # -- data -------------------------------------------------------------------------------------
    def load(self, source: str):
        from datasets import DatasetDict

        a = self.args
        self.source = source
        if source == "mini":
            key = a.model_dump_json()
            if key not in _MINI:  # built once per process and argument set; datasets are immutable
                _MINI.clear()
                _MINI[key] = self._mini()
            return _MINI[key]
        if source != "hub":
            raise ValueError(f"nlvr2: unknown source {source!r}; use 'hub' or 'mini'")
        raw = self._read_hub()
        wanted = {"train": a.train_split, "test": a.test_split}
        if a.ood_split:
            wanted["ood"] = a.ood_split
        out = {}
        for name, split in wanted.items():
            if split not in raw:
                if name == "ood":
                    continue  # a copy without the second test set simply has no OOD split
                raise ValueError(f"nlvr2: split {split!r} not found in {a.path or a.hub_id} (has {sorted(raw)})")
            out[name] = self._to_schema(raw[split], f"{a.path or a.hub_id}[{split}]")
        return DatasetDict(out)

    def _mini(self):
        from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, Value

        a = self.args
        features = Features({"left_image": Image(), "right_image": Image(), "sentence": Value("string"),
                             "label": ClassLabel(names=["False", "True"])})
        parts = {"train": (a.n_train, a.data_seed, False, a.label_noise),
                 "test": (a.n_test, a.data_seed + 1, False, 0.0),
                 "ood": (a.n_test, a.data_seed + 2, True, 0.0)}
        splits = {}
        for name, (n, seed, shifted, noise) in parts.items():
            columns = mini.generate(n, seed, shifted=shifted, label_noise=noise)
            for side in ("left_image", "right_image"):  # BMP: lossless and ~free to encode/decode
                columns[side] = [{"bytes": _bmp(img), "path": None} for img in columns[side]]
            splits[name] = Dataset.from_dict(columns, features=features)
        return DatasetDict(splits)

    def _read_hub(self):
        from mubench_harness.dataset_sources import load_hub_dataset, read_local_mirror

        a = self.args
        if a.path:
            if not os.path.isdir(a.path):
                raise FileNotFoundError(f"nlvr2: path {a.path!r} is not a folder (save_to_disk, or the repository's files)")
            files = a.hub_files if a.hub_files and all(os.path.isfile(os.path.join(a.path, f)) for f in a.hub_files.values()) else None
            return read_local_mirror(a.path, data_files=files)
        return load_hub_dataset(a.hub_id, data_files=a.hub_files) if a.hub_files else load_hub_dataset(a.hub_id)

    def _to_schema(self, ds, where: str):
        """Rename the copy's columns to the task's schema; decode image paths against ``image_root``."""
        from datasets import ClassLabel, Image, Value

        a = self.args
        if "images" in ds.column_names and a.left_column not in ds.column_names and a.right_column not in ds.column_names:
            # LAVIS's annotation form (the MU-Bench authors' jialicheng/nlvr2): one column of [left, right] paths
            pairs = ds["images"]
            bad = next((i for i, pr in enumerate(pairs) if len(pr) != 2), None)
            if bad is not None:
                raise ValueError(f"{where}: row {bad}: 'images' holds {len(pairs[bad])} paths, not a pair")
            ds = ds.add_column(a.left_column, [pr[0] for pr in pairs]).add_column(a.right_column, [pr[1] for pr in pairs])
        columns = {a.left_column: "left_image", a.right_column: "right_image", a.sentence_column: "sentence", a.label_column: "label"}
        missing = [c for c in columns if c not in ds.column_names]
        if missing:
            raise ValueError(f"{where}: missing columns {missing} (has {ds.column_names}); set the *_column args")
        ds = ds.select_columns(list(columns)).rename_columns({k: v for k, v in columns.items() if k != v})
        label_feature = ds.features["label"]
        names = label_feature.names if isinstance(label_feature, ClassLabel) else None
        # read only the light columns (labels, paths); images stay encoded until ``encode`` reads them
        labels = [to_label(names[v] if names else v, where) for v in ds["label"]]
        ds = ds.remove_columns("label").add_column("label", labels, feature=ClassLabel(names=["False", "True"]))
        for side in ("left_image", "right_image"):
            if isinstance(ds.features[side], Image):
                continue
            relative = [p for p in ds[side] if not os.path.isabs(p)]
            if relative and not a.image_root:
                raise ValueError(f"{where}: {side} holds image paths ({relative[0]!r}), not images: set image_root to "
                                 f"the folder of NLVR2's images (an annotations-only copy cannot be read without it)")
            paths = [os.path.join(a.image_root, p) if not os.path.isabs(p) else p for p in ds[side]]
            ds = ds.remove_columns(side).add_column(side, paths).cast_column(side, Image())
        return ds.select_columns(["left_image", "right_image", "sentence", "label"]).cast_column("sentence", Value("string"))

    def tokenizer_corpus(self, source: str):
        if source == "mini":  # the statements alone: no need to render the images
            a = self.args
            return mini.generate(a.n_train, a.data_seed, label_noise=a.label_noise)["sentence"]
        return list(self.load(source)["train"]["sentence"])

    # -- encoding ---------------------------------------------------------------------------------
    def max_length(self) -> int:
        """Token budget: the args' value, else ViLT's 40 positions for NLVR2 and 12 for the mini
        statements (at most 10 words + [CLS]: shorter sequences train faster)."""
        return self.args.max_length or (12 if self.source == "mini" else 40)

    def image_size(self, built: Built) -> int:
        if self.args.image_size:
            return self.args.image_size
        size = getattr(getattr(built.model, "config", None), "image_size", mini.SIZE)
        return int(size[0] if isinstance(size, (list, tuple)) else size)

    def encode(self, dataset, built: Built) -> Rows:
        """Images are kept as uint8 [N, 2, 3, S, S] (4x smaller than floats) and normalised per batch
        in :meth:`model_inputs`; statements are tokenised once to ``max_length``."""
        from PIL import Image as PILImage

        processor = built.processor
        tokenizer = getattr(processor, "tokenizer", processor)
        image_processor = getattr(processor, "image_processor", None)
        if image_processor is not None and getattr(image_processor, "image_mean", None) is not None:
            self._mean = torch.tensor(image_processor.image_mean, dtype=torch.float32).view(1, 1, 3, 1, 1)
            self._std = torch.tensor(image_processor.image_std, dtype=torch.float32).view(1, 1, 3, 1, 1)
        size = self.image_size(built)

        def pixels(img) -> np.ndarray:
            img = img.convert("RGB")
            if img.size != (size, size):  # square resize: all pairs share one tensor shape
                img = img.resize((size, size), PILImage.BILINEAR)
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)

        # decoded block by block into a column that spills to disk when large (NLVR2's ~86k training
        # pairs at ViLT's 384 px are about 76 GB)
        images = column_buffer((len(dataset), 2, 3, size, size), np.uint8)
        for start in range(0, len(dataset), ENCODE_BLOCK):
            part = dataset.select(range(start, min(start + ENCODE_BLOCK, len(dataset))))
            images.write(start, np.stack([np.stack([pixels(left), pixels(right)])
                                          for left, right in zip(part["left_image"], part["right_image"])]))
        text = tokenizer(list(dataset["sentence"]), padding="max_length", truncation=True,
                         max_length=self.max_length(), return_tensors="pt")
        input_ids, attention_mask = text["input_ids"], text["attention_mask"]
        if tokenizer.cls_token_id is not None and not bool((input_ids[:, 0] == tokenizer.cls_token_id).all()):
            # the offline word-level tokenizer adds no [CLS]; ViLT's pooler reads the first position
            cls = torch.full((len(input_ids), 1), tokenizer.cls_token_id, dtype=input_ids.dtype)
            input_ids = torch.cat([cls, input_ids[:, :-1]], 1)
            attention_mask = torch.cat([torch.ones_like(cls), attention_mask[:, :-1]], 1)
        return Rows({
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "pixel_values": images.finish(),
            "labels": torch.tensor(np.asarray(dataset["label"], dtype=np.int64)),
        })

    def model_inputs(self, batch):
        pixels = batch["pixel_values"]
        if pixels.dtype == torch.uint8:
            pixels = (pixels.float() / 255.0 - self._mean.to(pixels.device)) / self._std.to(pixels.device)
        b, n, _, h, w = pixels.shape
        return {
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "token_type_ids": torch.zeros_like(batch["input_ids"]),
            "pixel_values": pixels,
            "pixel_mask": torch.ones((b, n, h, w), dtype=torch.long, device=pixels.device),
        }
