"""Encoded rows cached on disk across runs and processes, content-addressed like ``datasets``' map cache.

A task's ``encode`` (tokenising 25,000 texts, resizing images, framing audio) costs seconds to minutes
and gives the same arrays every time for the same inputs. :class:`EncodeCache` keeps each encoding as
one ``.npy`` file per column in a folder named by a hash of everything the encoding depends on:

- the dataset's ``_fingerprint`` (the hash ``datasets`` keeps of a table's content and history);
- the processor's identity and content (a tokenizer's whole vocabulary and settings, an image
  processor's configuration) and the model's configuration;
- the task's class and settings (``signals.task_hash``) and the source of the module defining its
  ``encode`` (a helper ``encode`` calls in another module is not hashed: a change there that alters
  the arrays must bump :data:`VERSION`);
- :data:`VERSION` of this file format.

A manifest records each file's SHA-256, checked on every read: an entry that does not match (a
truncated write, bytes changed on disk) is rebuilt with a warning, never used. Entries are written to a
temporary folder and renamed into place, so two processes filling the same entry never read a partial one.
Columns the task spilled (``column_buffer``) that are larger than ``MUBENCH_SPILL_BYTES`` stay memory-mapped (:class:`~mubench_harness.data.DiskColumn`)
instead of being read into memory.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import DEFAULT_SPILL_BYTES, DiskColumn, Rows

#: bump when the layout of a cache entry changes: older entries are then never read
VERSION = 2
_CHUNK = 1 << 22


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def processor_fingerprint(processor: Any) -> str | None:
    """A hash of what a processor does to its inputs, or ``None`` when it cannot be described (the
    encoding is then not cached). Tokenizers by their whole serialized vocabulary and settings,
    image/audio/video processors and multi-part processors by their JSON configuration."""
    if processor is None:
        return "none"
    parts: list[str] = [f"{type(processor).__module__}.{type(processor).__qualname__}"]
    backend = getattr(processor, "backend_tokenizer", None) or getattr(processor, "_tokenizer", None)
    if backend is not None and hasattr(backend, "to_str"):
        # truncation/padding in the serialized form are the last call's settings (each encode sets its
        # own), not the tokenizer's identity: a tokenizer must hash the same before and after a call
        state = json.loads(backend.to_str())
        state.pop("truncation", None), state.pop("padding", None)
        parts.append(json.dumps(state, sort_keys=True))
        parts.append(json.dumps(getattr(processor, "init_kwargs", {}), sort_keys=True, default=str))
        parts.append(str(getattr(processor, "model_max_length", "")))
    elif hasattr(processor, "to_json_string"):
        parts.append(processor.to_json_string())
    else:
        return None
    # a multi-part processor (ViLT: image processor + tokenizer) is described by each part too
    for attr in ("tokenizer", "image_processor", "feature_extractor", "video_processor"):
        part = getattr(processor, attr, None)
        if part is not None and part is not processor:
            sub = processor_fingerprint(part)
            if sub is None:
                return None
            parts.append(sub)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _encoder_source(task) -> str:
    """The source of the ``encode`` the task runs (and of the class defining it): a changed encoder is a
    new cache entry without anyone remembering to bump a version."""
    owner = next((c for c in type(task).__mro__ if "encode" in vars(c)), type(task))
    try:
        return inspect.getsource(inspect.getmodule(owner))
    except (OSError, TypeError):
        return f"{owner.__module__}.{owner.__qualname__}"


def encode_key(task, dataset, built) -> str | None:
    """The cache key of ``task.encode(dataset, built)``, or ``None`` when it cannot be pinned down."""
    from .signals import task_hash

    fingerprint = getattr(dataset, "_fingerprint", None)
    proc = processor_fingerprint(built.processor)
    if fingerprint is None or proc is None:
        return None
    config = getattr(built.model, "config", None)
    config_json = config.to_json_string() if hasattr(config, "to_json_string") else ""
    h = hashlib.sha256()
    for part in (str(VERSION), fingerprint, proc, task_hash(task), _encoder_source(task), config_json,
                 json.dumps(built.info, sort_keys=True, default=str)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _to_numpy(col) -> np.ndarray | None:
    if isinstance(col, DiskColumn):
        return None  # copied file by file, see _save
    try:
        return col.detach().cpu().contiguous().numpy()
    except TypeError:  # a dtype numpy has no equivalent for (bfloat16): not cached
        return None


class EncodeCache:
    """Encodings of (task, dataset, processor) in ``folder``. ``encoded_rows`` counts the rows this
    cache actually encoded, ``hits`` the encodings read back from disk."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.encoded_rows = 0
        self.hits = 0

    def encode(self, task, dataset, built) -> Rows:
        key = encode_key(task, dataset, built)
        if key is None:
            return self._encode(task, dataset, built)
        entry = self.folder / key
        if entry.is_dir():
            rows = self._read(entry)
            if rows is not None:
                self.hits += 1
                return rows
        rows = self._encode(task, dataset, built)
        return self._save(entry, rows) or rows

    def _encode(self, task, dataset, built) -> Rows:
        rows = task.encode(dataset, built)
        self.encoded_rows += len(rows)
        return rows

    def _save(self, entry: Path, rows: Rows) -> Rows | None:
        """Write ``rows`` as an entry and return them read from it (``None``: not cacheable)."""
        tmp = entry.with_name(f".{entry.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        try:
            manifest = {"version": VERSION, "rows": len(rows), "columns": {}}
            for i, (name, col) in enumerate(rows.columns.items()):
                file = tmp / f"{i}.npy"
                if isinstance(col, DiskColumn) and col.positions is None:
                    shutil.copyfile(col.path, file)
                else:
                    array = col.materialize().numpy() if isinstance(col, DiskColumn) else _to_numpy(col)
                    if array is None:
                        return None
                    np.save(file, array, allow_pickle=False)
                manifest["columns"][name] = {"file": file.name, "sha256": _sha256_file(file),
                                             "spills": isinstance(col, DiskColumn)}
            (tmp / "manifest.json").write_text(json.dumps(manifest))
            try:
                tmp.rename(entry)
            except OSError:  # another process wrote the same entry first: theirs is as good
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self._read(entry, verify=False, memory=rows)

    def _read(self, entry: Path, *, verify: bool = True, memory: Rows | None = None) -> Rows | None:
        """The entry's rows; ``None`` (with a warning, the entry removed) when any file fails its hash."""
        limit = int(os.environ.get("MUBENCH_SPILL_BYTES", DEFAULT_SPILL_BYTES))
        try:
            manifest = json.loads((entry / "manifest.json").read_text())
            if manifest.get("version") != VERSION:
                raise ValueError(f"cache format version {manifest.get('version')}, expected {VERSION}")
            columns = {}
            for name, meta in manifest["columns"].items():
                file = entry / meta["file"]
                if verify and _sha256_file(file) != meta["sha256"]:
                    raise ValueError(f"{file.name} does not match its recorded SHA-256")
                # only a column the task itself let spill (column_buffer) comes back memory-mapped:
                # row ids, labels and the like are read whole by splits, methods and metrics
                if meta.get("spills") and file.stat().st_size > limit:
                    columns[name] = DiskColumn(file, meta["sha256"])  # memory-mapped, read batch by batch
                elif memory is not None and not isinstance(memory.columns[name], DiskColumn):
                    columns[name] = memory.columns[name]  # just written from these very tensors
                else:
                    columns[name] = torch.from_numpy(np.load(file, allow_pickle=False))
            rows = Rows(columns)
            if len(rows) != manifest["rows"]:
                raise ValueError(f"{len(rows)} rows, manifest says {manifest['rows']}")
            return rows
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"warning: {entry}: cached encoding not used ({exc}); encoding again", file=sys.stderr)
            shutil.rmtree(entry, ignore_errors=True)
            return None
