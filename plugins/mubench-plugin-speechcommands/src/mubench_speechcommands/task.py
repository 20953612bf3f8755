"""Speech Commands task: the hub loader (audio decoded with soundfile, never torchcodec), the eSpeak NG
mini source (speakers disjoint between train and test), and encoding through the model family's
feature extractor."""
from __future__ import annotations

import io
import os

import numpy as np
import torch

from mubench_harness.contracts import Built, ClassificationTask, TrainRecipe
from mubench_harness.data import Rows
from mubench_harness.dataset_sources import keep_latest

RATE = 16000
WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
AUXILIARY_V1 = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow"]
AUXILIARY_V2 = AUXILIARY_V1 + ["backward", "forward", "follow", "learn", "visual"]
SILENCE = "_silence_"
#: the label order of the hub dataset's ClassLabel (commands, auxiliary words, silence)
LABELS = {"v0.01": WORDS + AUXILIARY_V1 + [SILENCE], "v0.02": WORDS + AUXILIARY_V2 + [SILENCE]}


def fix_length(wave: np.ndarray) -> np.ndarray:
    """Exactly 1 s: centre-crop longer clips (silence recordings), zero-pad shorter ones at the end."""
    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) >= RATE:
        start = (len(wave) - RATE) // 2
        return wave[start : start + RATE]
    return np.pad(wave, (0, RATE - len(wave)))


def decode(audio: dict, where: str) -> np.ndarray:
    """An undecoded ``Audio`` cell ({bytes, path}) to a mono float32 16 kHz second."""
    import soundfile

    source = io.BytesIO(audio["bytes"]) if audio.get("bytes") else audio.get("path")
    if not source:
        raise ValueError(f"{where}: an audio cell has neither bytes nor a path")
    try:
        wave, rate = soundfile.read(source, dtype="float32")
    except Exception as err:  # soundfile raises its own LibsndfileError; name the file
        raise ValueError(f"{where}: cannot decode audio {audio.get('path')!r}: {err}") from err
    if wave.ndim > 1:
        wave = wave.mean(1)
    if rate != RATE:
        from scipy.signal import resample_poly

        g = np.gcd(int(rate), RATE)
        wave = resample_poly(wave, RATE // g, int(rate) // g).astype(np.float32)
    return fix_length(wave)


#: the last built mini DatasetDict, by argument set
_MINI: dict[str, object] = {}

class SpeechCommandsTask(ClassificationTask):
    stratify_column = "label"
    # every tiny audio family learns mini with this recipe (train / test accuracy, chance 0.11):
    # whisper 0.78 / 0.72, hubert 0.69 / 0.47, wav2vec2 0.78 / 0.53; at 3e-3 wav2vec2 collapses to
    # chance. ~30 s (whisper) to ~100 s (hubert, wav2vec2 on raw samples) on one CPU thread
    recipe = TrainRecipe(epochs=30, lr=1e-3, batch_size=32, optimizer="adamw")

    def __init__(self, args):
        super().__init__(args)
        if args.config not in LABELS:
            raise ValueError(f"speechcommands: config {args.config!r} unknown; use one of {sorted(LABELS)}")
        self.labels = LABELS[args.config]
        self.num_classes = len(self.labels)
        unknown = [k for k in args.keywords if k not in self.labels]
        if unknown:
            raise ValueError(f"speechcommands: keywords {unknown} are not {args.config} labels")

    def features(self):
        from datasets import ClassLabel, Features, List, Value

        return Features({"file": Value("string"), "audio": List(Value("float32"), length=RATE), "label": ClassLabel(names=self.labels),
                         "is_unknown": Value("bool"), "speaker_id": Value("string"), "utterance_id": Value("int8")})

    # -- data -------------------------------------------------------------------------------------
    def load(self, source: str):
        if source == "mini":
            return self._mini_cached()
        if source != "hub":
            raise ValueError(f"speechcommands: unknown source {source!r}; use 'hub' or 'mini'")
        from datasets import DatasetDict

        raw = self._read_hub()
        a = self.args
        out = {}
        for name, split in (("train", a.train_split), ("test", a.test_split)):
            if split not in raw:
                raise ValueError(f"speechcommands: split {split!r} not in {a.path or a.hub_id} (has {sorted(raw)})")
            out[name] = self._to_schema(raw[split], f"{a.path or a.hub_id}[{split}]")
        return DatasetDict(out)

    def _read_hub(self):
        from mubench_harness.dataset_sources import load_hub_dataset, read_local_mirror

        if self.args.path:
            if not os.path.isdir(self.args.path):
                raise FileNotFoundError(f"speechcommands: path {self.args.path!r} is not a folder (save_to_disk, or a "
                                        f"copy of the hub's parquet export of {self.args.config})")
            return read_local_mirror(self.args.path)
        return load_hub_dataset(self.args.hub_id, self.args.config)

    def _to_schema(self, ds, where: str):
        from datasets import Audio, ClassLabel

        for col in ("audio", "label"):
            if col not in ds.column_names:
                raise ValueError(f"{where}: missing column {col!r} (has {ds.column_names})")
        label = ds.features["label"]
        if not isinstance(label, ClassLabel) or label.names != self.labels:
            raise ValueError(f"{where}: labels {getattr(label, 'names', label)} are not the {self.args.config} labels")
        # decode=False: the Audio feature's own decoder needs torchcodec; we decode with soundfile
        ds = ds.cast_column("audio", Audio(decode=False))
        features = self.features()

        def convert(batch):
            n = len(batch["audio"])
            return {
                "file": batch.get("file") or [a.get("path") or "" for a in batch["audio"]],
                "audio": [decode(a, where) for a in batch["audio"]],
                "label": batch["label"],
                "is_unknown": batch.get("is_unknown") or [self.labels[y] not in WORDS for y in batch["label"]],
                "speaker_id": batch.get("speaker_id") or [""] * n,
                "utterance_id": batch.get("utterance_id") or [0] * n,
            }

        return ds.map(convert, batched=True, batch_size=256, remove_columns=ds.column_names, features=features)

    def _mini_cached(self):
        """The mini DatasetDict, built once per process and argument set (datasets are immutable:
        every transform returns a new object, so sharing one is safe)."""
        return keep_latest(_MINI, self.args.model_dump_json(), self._mini)

    def _mini(self):
        from datasets import DatasetDict

        from . import synth

        a = self.args
        data = synth.generate(list(a.keywords), a.speakers, a.clips_per_speaker, a.silence, a.data_seed)
        words = list(a.keywords) + [SILENCE]
        names = [words[k] for k in data["label"]]
        labels = np.asarray([self.labels.index(w) for w in names], dtype=np.int64)
        # the test set's speakers (voices) are not the training set's, as in the real dataset: with shared
        # voices the test clips would be augmented copies of training utterances, and every membership
        # number (test = non-members) would measure nothing
        n_test = min(a.speakers - 1, max(1, int(round(a.speakers * a.test_fraction))))
        test_speakers = np.random.Generator(np.random.PCG64(a.data_seed + 1)).choice(a.speakers, n_test, replace=False)
        in_test = np.isin(data["speaker"], test_speakers)
        utterance = np.zeros(len(labels), dtype=np.int64)  # the n-th take of a (speaker, word)
        seen: dict[tuple[int, int], int] = {}
        for i, key in enumerate(zip(data["speaker"].tolist(), labels.tolist())):
            utterance[i] = seen.get(key, 0)
            seen[key] = utterance[i] + 1

        def split(pos):
            import pyarrow as pa
            from datasets import Dataset

            pos = np.sort(pos)
            # arrow straight from the [N, 16000] array: a list-of-arrays from_dict is ~20x slower
            audio = pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(data["audio"][pos]).reshape(-1)), RATE)
            table = pa.table({
                "file": [f"{names[i]}/espeak{data['speaker'][i]:02d}_nohash_{utterance[i]}.wav" for i in pos],
                "audio": audio,
                "label": labels[pos],
                "is_unknown": [names[i] not in WORDS for i in pos],
                "speaker_id": [f"espeak{data['speaker'][i]:02d}" for i in pos],
                "utterance_id": utterance[pos].astype(np.int8),
            })
            return Dataset(table).cast(self.features())

        return DatasetDict({"train": split(np.flatnonzero(~in_test)), "test": split(np.flatnonzero(in_test))})

    # -- encoding ---------------------------------------------------------------------------------
    def encode(self, dataset, built: Built) -> Rows:
        """Waveforms through the family's feature extractor once: ``input_values`` (HuBERT, wav2vec 2.0)
        or ``input_features`` (Whisper's log-mel spectrogram)."""
        extractor = built.processor
        if extractor is None:
            raise ValueError("speechcommands needs a model family with a feature extractor (its processor)")
        extractor = getattr(extractor, "feature_extractor", extractor)
        waves = np.asarray(dataset.with_format("numpy")["audio"], dtype=np.float32)
        parts: dict[str, list[torch.Tensor]] = {}
        for start in range(0, len(waves), 256):
            out = extractor(list(waves[start : start + 256]), sampling_rate=RATE, return_tensors="pt")
            for key in ("input_values", "input_features"):
                if key in out:
                    parts.setdefault(key, []).append(out[key].float())
        if not parts:
            raise ValueError(f"{type(extractor).__name__} returned neither input_values nor input_features")
        columns = {k: torch.cat(v) for k, v in parts.items()}
        columns["labels"] = torch.as_tensor(np.asarray(dataset.with_format("numpy")["label"]), dtype=torch.long)
        return Rows(columns)
