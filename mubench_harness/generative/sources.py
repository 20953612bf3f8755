"""Reading a task's ``source: hub``: the real dataset through ``datasets``, or a local mirror of it.

A mirror is either a folder written by ``DatasetDict.save_to_disk`` or a folder / file of data files
(``<split>.parquet|jsonl|json|csv``). Both go through the real loading code of ``datasets``.
"""
from __future__ import annotations

from pathlib import Path

FORMATS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}


def load_hub_or_mirror(hub_id: str, path: str | None, splits: tuple[str, ...], *, name: str | None = None):
    """Return a ``DatasetDict`` with ``splits`` (those present) from ``path`` if given, else ``hub_id``."""
    from datasets import DatasetDict, load_dataset, load_from_disk

    from ..dataset_sources import load_hub_dataset

    if path is None:
        ds = load_hub_dataset(hub_id, name) if name else load_hub_dataset(hub_id)
    else:
        p = Path(path).expanduser()
        if not p.exists():
            raise FileNotFoundError(f"dataset path {p} does not exist")
        if (p / "dataset_dict.json").is_file():
            ds = load_from_disk(str(p))
        elif p.is_file():
            if p.suffix not in FORMATS:
                raise ValueError(f"{p}: unsupported data file type {p.suffix!r} (use {', '.join(FORMATS)})")
            ds = load_dataset(FORMATS[p.suffix], data_files={"train": str(p)})
        else:
            files = {f.stem: f for f in sorted(p.iterdir()) if f.suffix in FORMATS and f.stem in splits}
            if files:
                kinds = {FORMATS[f.suffix] for f in files.values()}
                if len(kinds) > 1:
                    raise ValueError(f"{p}: mixed data file types {sorted(kinds)}")
                ds = load_dataset(kinds.pop(), data_files={k: str(v) for k, v in files.items()})
            elif any(f.suffix in FORMATS for f in p.rglob("*")):
                # a copy of the hub repository (e.g. data/train-00000-of-00001.parquet): the hub's split rules
                ds = load_dataset(str(p))
            else:
                raise FileNotFoundError(f"{p}: no dataset_dict.json and no {'/'.join(splits)} data files "
                                        f"({', '.join(FORMATS)})")
    return DatasetDict({s: ds[s] for s in splits if s in ds})


def require_columns(dataset, columns: tuple[str, ...], where: str) -> None:
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}; found {dataset.column_names}")
