"""Reading a classification task's ``source: hub``: the hub dataset through ``datasets``, or a local
mirror of it (a ``save_to_disk`` folder, or a folder of data files ``load_dataset`` reads).
:func:`load_hub_dataset` is every task's way to the hub.

Generative tasks read theirs with :func:`mubench_harness.generative.sources.load_hub_or_mirror`, which
also takes single data files and keeps only the splits asked for. :func:`keep_latest` holds a task's
last built mini dataset.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


#: the branch where the hub keeps its parquet export of a dataset (loading-script datasets included)
PARQUET_EXPORT = "refs/convert/parquet"


def load_hub_dataset(hub_id: str, *args, **kwargs):
    """``datasets.load_dataset(hub_id, ...)``; a loading-script dataset (which datasets >= 4 no longer
    runs, e.g. google/speech_commands) is read from the hub's parquet export of it instead, with a warning."""
    import warnings

    from datasets import load_dataset

    try:
        return load_dataset(hub_id, *args, **kwargs)
    except RuntimeError as exc:
        if "scripts are no longer supported" not in str(exc) or kwargs.get("revision"):
            raise
    warnings.warn(f"{hub_id} is a loading-script dataset; reading the hub's parquet export ({PARQUET_EXPORT})",
                  stacklevel=2)
    return load_dataset(hub_id, *args, **{**kwargs, "revision": PARQUET_EXPORT})


def read_local_mirror(path: str, data_files: dict[str, str] | None = None):
    """A local mirror: a ``save_to_disk`` folder; a folder of ``<split>.tsv`` files with a header (BLURB's
    and the MU-Bench authors' DDI files); or a folder laid out as the hub repository (parquet shards,
    json...), read by ``load_dataset`` with the hub's own split rules, or with ``data_files`` (split ->
    file in the folder) where those rules would merge splits (NLVR2's ``test2.json`` into ``test``)."""
    from datasets import load_dataset, load_from_disk

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"dataset path {path!r} does not exist")
    if (p / "dataset_dict.json").is_file() or (p / "dataset_info.json").is_file():
        return load_from_disk(str(p))
    if data_files:
        return load_dataset(str(p), data_files=data_files)
    tsv = {f.stem: str(f) for f in sorted(p.glob("*.tsv"))}
    if tsv:
        return load_dataset("csv", data_files=tsv, delimiter="\t")
    return load_dataset(str(p))


def load_hub_or_local(hub_id: str | None, path: str | None, *, task: str, splits: tuple[str, ...] = ()):
    """The raw dataset of the local mirror ``path`` if given, else of ``hub_id``; every split in
    ``splits`` must be there (an error naming ``task`` and the dataset otherwise)."""
    raw = read_local_mirror(path) if path else load_hub_dataset(hub_id)
    missing = set(splits) - set(raw)
    if missing:
        raise ValueError(f"{task}: dataset {path or hub_id!r} lacks split(s) {sorted(missing)}")
    return raw


def keep_latest(cache: dict[str, T], key: str, build: Callable[[], T]) -> T:
    """``cache[key]``, built with ``build()`` on a miss, after which the cache holds that entry alone:
    a test session builds a few argument sets in turn, and one mini dataset at a time bounds memory."""
    if key not in cache:
        cache.clear()
        cache[key] = build()
    return cache[key]
