"""UCF101 task: videos decoded with PyAV (frames sampled uniformly), a mini source of moving shapes,
and encoding for VideoMAE (pixel_values [B, T, 3, S, S])."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

from mubench_harness.contracts import Built, ClassificationTask, TrainRecipe
from mubench_harness.data import Rows, column_buffer
from mubench_harness.dataset_sources import keep_latest

from . import mini

#: clips decoded and written per block while encoding (bounds the memory of decoding)
ENCODE_BLOCK = 256

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".webm", ".mov")
#: VideoMAE checkpoints normalise with ImageNet's mean/std; a processor's own values win
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def read_frames(source, num_frames: int, size: int, where: str) -> np.ndarray:
    """Decode a video (a path or bytes) with PyAV; ``num_frames`` frames sampled uniformly over the
    clip, each resized to ``size`` x ``size``: uint8 [T, 3, size, size]."""
    try:
        import av
    except ImportError as err:
        raise ImportError("ucf101 reads videos with PyAV: pip install av") from err
    from PIL import Image

    try:
        with av.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else str(source)) as container:
            frames = [f.to_image() for f in container.decode(video=0)]
    except (av.error.FFmpegError, OSError) as err:
        raise ValueError(f"{where}: cannot decode video: {err}") from err
    if not frames:
        raise ValueError(f"{where}: video has no frames")
    picks = np.linspace(0, len(frames) - 1, num_frames).round().astype(int)
    return np.stack([np.asarray(frames[i].convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8).transpose(2, 0, 1)
                     for i in picks])


#: the last built mini DatasetDict, by argument set
_MINI: dict[str, object] = {}

class UCF101Task(ClassificationTask):
    stratify_column = "label"
    # tiny VideoMAE on mini clips: a few tens of seconds on one CPU thread
    recipe = TrainRecipe(epochs=15, lr=2e-3, batch_size=32, optimizer="adamw")

    def __init__(self, args):
        super().__init__(args)
        self._mean = torch.tensor(IMAGENET_MEAN).view(1, 1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD).view(1, 1, 3, 1, 1)
        # 101 classes for real data; the mini source has shape x motion classes
        self.num_classes = len(args.shapes) * len(args.motions) if self._mini_only() else args.num_classes

    def _mini_only(self) -> bool:
        return self.args.path is None and self.args.hub_id is None

    # -- data -------------------------------------------------------------------------------------
    def load(self, source: str):
        if source == "mini":
            if not self._mini_only():
                raise ValueError("ucf101: the mini source has its own classes; drop 'path'/'hub_id' to use it")
            return self._mini_cached()
        if source != "hub":
            raise ValueError(f"ucf101: unknown source {source!r}; use 'hub' or 'mini'")
        if self.args.hub_id:
            out = self._from_hub()
        elif self.args.path:
            out = self._from_folders()
        else:
            raise ValueError("ucf101: source 'hub' needs 'hub_id' or a local 'path' (<path>/<split>/<Class>/*.avi)")
        if len(out["train"].features["label"].names) != self.num_classes:
            raise ValueError(f"ucf101: {len(out['train'].features['label'].names)} classes found, expected {self.num_classes}")
        return out

    def _mini_cached(self):
        """The mini DatasetDict, built once per process and argument set (datasets are immutable:
        every transform returns a new object, so sharing one is safe)."""
        return keep_latest(_MINI, self.args.model_dump_json(), self._mini)

    def _mini(self):
        from datasets import ClassLabel, Dataset, DatasetDict

        a = self.args
        videos, labels, names = mini.generate(a.shapes, a.motions, a.clips_per_class, a.frames, a.size, a.data_seed)
        order = np.random.Generator(np.random.PCG64(a.data_seed + 1)).permutation(len(labels))
        n_test = int(round(len(order) * a.test_fraction))
        ood_videos, ood_labels, _ = mini.generate(a.shapes, a.motions, max(2, a.clips_per_class // 3), a.frames, a.size, a.data_seed + 2, shifted=True)

        def split(v, y):
            import pyarrow as pa

            # arrow straight from the uint8 array as nested fixed-size lists [T][3][S][S]: no per-row
            # Python, and numpy formatting gives the array back in one piece
            arr = pa.array(np.ascontiguousarray(v).reshape(-1))
            for n in reversed(v.shape[1:]):
                arr = pa.FixedSizeListArray.from_arrays(arr, n)
            return Dataset(pa.table({"video": arr, "label": y})).cast_column("label", ClassLabel(names=names))

        test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
        return DatasetDict({"train": split(videos[train], labels[train]), "test": split(videos[test], labels[test]),
                            "ood": split(ood_videos, ood_labels)})

    def _folder_split(self, root: Path, names: list[str], where: str):
        from datasets import ClassLabel, Dataset, Features, Value

        paths, labels = [], []
        for k, name in enumerate(names):
            for f in sorted((root / name).glob("*")):
                if f.suffix.lower() in VIDEO_SUFFIXES:
                    paths.append(str(f))
                    labels.append(k)
        if not paths:
            raise ValueError(f"{where}: no videos ({', '.join(VIDEO_SUFFIXES)}) under {root}/<Class>/")
        return Dataset.from_dict({"video": paths, "label": labels}, features=Features({"video": Value("string"), "label": ClassLabel(names=names)}))

    def _from_folders(self):
        from datasets import DatasetDict

        root = Path(self.args.path)
        if not (root / "train").is_dir() or not (root / "test").is_dir():
            raise FileNotFoundError(f"ucf101: {root} needs 'train' and 'test' folders of <ClassName>/*.avi")
        names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
        out = {s: self._folder_split(root / s, names, f"{root}/{s}") for s in ("train", "test")}
        if self.args.ood_path:  # UCF101-DS: same class names
            out["ood"] = self._folder_split(Path(self.args.ood_path), names, self.args.ood_path)
        return DatasetDict(out)

    def _from_hub(self):
        from datasets import ClassLabel, DatasetDict

        from mubench_harness.dataset_sources import load_hub_dataset

        raw = load_hub_dataset(self.args.hub_id)
        a = self.args
        out = {}
        for split in ("train", "test"):
            if split not in raw:
                raise ValueError(f"ucf101: {a.hub_id} has no {split!r} split (has {sorted(raw)})")
            ds = raw[split]
            for col in (a.video_column, a.label_column):
                if col not in ds.column_names:
                    raise ValueError(f"{a.hub_id}[{split}]: missing column {col!r} (has {ds.column_names})")
            if not isinstance(ds.features[a.label_column], ClassLabel):
                raise ValueError(f"{a.hub_id}[{split}]: {a.label_column!r} is not a ClassLabel")
            if type(ds.features[a.video_column]).__name__ == "Video":
                # the datasets Video decoder needs torchcodec; keep {bytes, path} and decode with PyAV
                from datasets import Video

                ds = ds.cast_column(a.video_column, Video(decode=False))
            out[split] = ds.select_columns([a.video_column, a.label_column]).rename_columns(
                {k: v for k, v in ((a.video_column, "video"), (a.label_column, "label")) if k != v})
        if a.ood_path:
            names = out["train"].features["label"].names
            out["ood"] = self._folder_split(Path(a.ood_path), names, a.ood_path)
        return DatasetDict(out)

    # -- encoding ---------------------------------------------------------------------------------
    def _shape(self, built: Built) -> tuple[int, int]:
        config = getattr(built.model, "config", None)
        frames = self.args.num_frames or getattr(config, "num_frames", self.args.frames)
        size = self.args.image_size or getattr(config, "image_size", self.args.size)
        return int(frames), int(size[0] if isinstance(size, (list, tuple)) else size)

    def encode(self, dataset, built: Built) -> Rows:
        """Clips as uint8 [N, T, 3, S, S] (4x smaller than floats), normalised per batch in
        :meth:`model_inputs`. Decoded videos (paths or bytes) are sampled to the model's frame count.
        Clips are decoded block by block into a column that spills to disk when it is large (the full
        UCF101 at 16 × 224² frames is about 23 GB)."""
        processor = built.processor
        if getattr(processor, "image_mean", None) is not None:
            self._mean = torch.tensor(processor.image_mean, dtype=torch.float32).view(1, 1, 3, 1, 1)
            self._std = torch.tensor(processor.image_std, dtype=torch.float32).view(1, 1, 3, 1, 1)
        frames, size = self._shape(built)
        video = column_buffer((len(dataset), frames, 3, size, size), np.uint8)
        for start in range(0, len(dataset), ENCODE_BLOCK):
            video.write(start, self._clips(dataset.select(range(start, min(start + ENCODE_BLOCK, len(dataset)))),
                                           frames, size))
        labels = torch.as_tensor(np.asarray(dataset.with_format("numpy")["label"]), dtype=torch.long)
        return Rows({"pixel_values": video.finish(), "labels": labels})

    def _clips(self, part, frames: int, size: int) -> np.ndarray:
        """uint8 [B, frames, 3, size, size] clips of the dataset rows ``part``."""
        import torch.nn.functional as F

        column = part.features["video"]
        if getattr(column, "dtype", None) == "string" or type(column).__name__ == "Value":
            return np.stack([read_frames(v if os.path.isabs(v) or not self.args.path else os.path.join(self.args.path, v),
                                         frames, size, v) for v in part["video"]])
        if isinstance(part[0]["video"], dict):  # a hub Video/bytes cell: {bytes, path}
            return np.stack([read_frames(v.get("bytes") or v.get("path"), frames, size, str(v.get("path")))
                             for v in part["video"]])
        # decoded arrays (mini): resample frames / resize only where the model wants another shape
        video = torch.from_numpy(np.asarray(part.with_format("numpy")["video"], dtype=np.uint8))
        if video.shape[1] != frames:
            video = video[:, np.linspace(0, video.shape[1] - 1, frames).round().astype(int)]
        if video.shape[-1] != size:
            n, t = video.shape[:2]
            video = F.interpolate(video.flatten(0, 1).float(), size=(size, size), mode="bilinear",
                                  align_corners=False).round().clamp(0, 255).to(torch.uint8).view(n, t, 3, size, size)
        return video.numpy()

    def model_inputs(self, batch):
        pixels = batch["pixel_values"]
        if pixels.dtype == torch.uint8:
            pixels = (pixels.float() / 255.0 - self._mean.to(pixels.device)) / self._std.to(pixels.device)
        return {"pixel_values": pixels}
