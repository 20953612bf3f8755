"""Standardized deletion sets: Df for (task, split seed, ratio) is the same in every process and on
every machine, nested across ratios, and class-stratified for classification.

One global order of the training set is drawn from the split seed alone (numpy's PCG64, which is
platform-independent; nothing depends on ``PYTHONHASHSEED`` or global RNG state). Df at r % is the
first round(r % · N) samples of that order, so Df(r %) ⊂ Df(r+1 %) by construction. Stratification
comes from the order itself: each class's samples are spread evenly along it (a sample of rank k
in its class of size n sits at (k + ½)/n), so every prefix holds each class in proportion ±1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATIOS = tuple(range(1, 11))  # percent


def deletion_order(n: int, split_seed: int, strata: Sequence | None = None) -> np.ndarray:
    """Positions 0..n-1 in deletion order."""
    rng = np.random.Generator(np.random.PCG64(split_seed))
    tiebreak = rng.permutation(n)
    if strata is None:
        return tiebreak
    strata = np.asarray(strata)
    key = np.empty(n, dtype=np.float64)
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        members = members[np.argsort(tiebreak[members], kind="stable")]  # random order within the class
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((tiebreak, key))


def check_ratio(ratio: int) -> int:
    if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio not in RATIOS:
        raise ValueError(f"deletion ratio must be a whole percent from 1 to 10, got {ratio!r}")
    return ratio


def forget_size(n: int, ratio: int) -> int:
    return max(1, int(round(n * check_ratio(ratio) / 100)))


def forget_indices(n: int, ratio: int, split_seed: int = 42, strata: Sequence | None = None) -> np.ndarray:
    """Sorted training-set positions of Df at ``ratio`` percent."""
    order = deletion_order(n, split_seed, strata)
    return np.sort(order[: forget_size(n, ratio)])


def retain_indices(n: int, forget: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[forget] = False
    return np.flatnonzero(mask)


# --------------------------------------------------------------------------------------------------
# The MU-Bench authors' deletion-set files (``mubench/df/<task>.txt`` of CLU-UML/MU-Bench)
# --------------------------------------------------------------------------------------------------
# Two layouts exist. Most tasks: one file of training-row positions, one per line, holding 10 % of the
# training set in deletion order; a k % run takes the first floor(k/10 · lines) of them (their code:
# ``del_idx[:int(del_ratio / 10 * len(del_idx))]``). UCF101: a folder with one file per ratio, each a
# 0/1 flag per training row (their names mix ``1.txt`` and ``2.0.txt``).


class DeletionFileError(ValueError):
    """A deletion-set file that cannot be used (bad input); the message names the file and line."""


def read_index_file(path: Path) -> np.ndarray:
    """The positions a deletion-set file lists, in file order. Each line a non-negative integer (blank
    lines are skipped); anything else, or a position listed twice, is an error naming ``FILE:LINE``."""
    values, first_line = [], {}
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()):  # '²' is a digit to str.isdigit
            raise DeletionFileError(f"{path}:{lineno}: {text[:40]!r} is not a training-row index (a non-negative integer)")
        value = int(text)
        if value in first_line:
            raise DeletionFileError(f"{path}:{lineno}: index {value} is listed twice (first on line {first_line[value]})")
        first_line[value] = lineno
        values.append(value)
    if not values:
        raise DeletionFileError(f"{path}: lists no index")
    return np.asarray(values, dtype=np.int64)


def read_mask_file(path: Path) -> np.ndarray:
    """A 0/1 flag per training row (UCF101's layout) → the flagged positions."""
    flags = []
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if text not in ("0", "1"):
            raise DeletionFileError(f"{path}:{lineno}: {text[:40]!r} is not a 0/1 flag")
        flags.append(text == "1")
    return np.flatnonzero(np.asarray(flags, dtype=bool))


def prefix_size(listed: int, ratio: int) -> int:
    """How many of a 10 % file's rows a ``ratio`` % run takes: floor(ratio/10 · listed), as the authors'
    code does (in exact integers: their float product could round a whole number down by one)."""
    return check_ratio(ratio) * listed // 10


def mask_file_for(folder: Path, ratio: int) -> Path:
    """UCF101's per-ratio file: ``<k>.txt`` or ``<k>.0.txt`` (both occur in the authors' folder)."""
    for name in (f"{ratio}.txt", f"{ratio}.0.txt"):
        if (folder / name).is_file():
            return folder / name
    raise DeletionFileError(f"{folder}: no deletion-set file for {ratio} % ({ratio}.txt or {ratio}.0.txt)")


@dataclass
class FileDeletionSet:
    """Df read from the authors' files: exactly the rows they list, checked against the training set."""

    path: Path
    layout: str  # 'indices' (one 10 % file) | 'mask' (a folder, a 0/1 file per ratio)

    def indices(self, n: int, ratio: int) -> np.ndarray:
        """Sorted positions of Df at ``ratio`` % of a training set of ``n`` rows."""
        if self.layout == "mask":
            file = mask_file_for(self.path, ratio)
            listed = read_mask_file(file)
            flags = len([ln for ln in file.read_text().splitlines() if ln.strip()])
            if flags != n:
                raise DeletionFileError(f"{file}: {flags} flags for a training set of {n} rows")
            return listed
        listed = read_index_file(self.path)
        bad = np.flatnonzero(listed >= n)
        if len(bad):
            raise DeletionFileError(f"{self.path}:{_line_of(self.path, int(bad[0]))}: index {listed[bad[0]]} is out of range "
                                    f"(the training set has {n} rows, 0..{n - 1})")
        return np.sort(listed[: prefix_size(len(listed), ratio)])

    def check(self, n: int, ratios: Sequence[int], strata: Sequence | None) -> list[str]:
        """Errors (``DeletionFileError``) for what makes the file unusable; warnings (returned) for its
        quirks: a sorted index file (its k % prefixes are the lowest positions, not random subsets) and
        class shares of Df that differ from the training set's."""
        warnings = []
        if self.layout == "indices":
            listed = read_index_file(self.path)
            if len(listed) > 1 and bool(np.all(np.diff(listed) > 0)):
                warnings.append(f"{self.path}: the indices are sorted ascending, so a k % prefix is the lowest "
                                f"positions of the training set, not a random subset (the authors' SAMSum file is so)")
            if abs(len(listed) / n - 0.10) > 0.005:  # their files hold 10 %: another size means another dataset
                warnings.append(f"{self.path}: lists {len(listed)} rows, {100 * len(listed) / n:.1f} % of this training "
                                f"set's {n} (the authors' files hold 10 %): it was likely made for another version "
                                f"or order of the dataset, and its rows may not be the ones it meant")
        for ratio in ratios:
            forget = self.indices(n, ratio)
            if not len(forget):
                raise DeletionFileError(f"{self.path}: Df at {ratio} % would be empty (the file's first "
                                        f"{ratio}/10 of its rows, or no flag set)")
            if strata is not None:
                warnings += class_balance_warnings(self.path, ratio, forget, strata)
        return warnings


def _line_of(path: Path, entry: int) -> int:
    """The line number of the ``entry``-th non-blank line."""
    seen = -1
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        if raw.strip():
            seen += 1
            if seen == entry:
                return lineno
    return 0


def class_balance_warnings(path: Path, ratio: int, forget: np.ndarray, strata: Sequence) -> list[str]:
    """A warning per class whose share in Df differs from its training share by more than 2 rows and
    25 % of the expected count (our unified sets are within ±1 row of proportional)."""
    strata = np.asarray(strata)
    values, counts = np.unique(strata, return_counts=True)
    in_df = dict(zip(*np.unique(strata[forget], return_counts=True)))
    out = []
    for value, count in zip(values, counts):
        expected = count * len(forget) / len(strata)
        got = int(in_df.get(value, 0))
        value = value.item() if hasattr(value, "item") else value  # numpy scalars print as np.int64(1)
        if abs(got - expected) > max(2.0, 0.25 * expected):
            out.append(f"{path}: at {ratio} %, class {value!r} has {got} rows in Df where its training share gives "
                       f"{expected:.1f}")
    return out


def mubench_txt(order: np.ndarray, n: int) -> str:
    """Our deletion order in the authors' index-file layout: the first 10 % of the training set, one
    position per line in deletion order, so their prefix rule reads a k % set off it."""
    return "".join(f"{int(i)}\n" for i in order[: forget_size(n, 10)])


def deletion_file(splits_block, base_dir: Path) -> FileDeletionSet | None:
    """The authors' deletion-set file a task entry's ``splits:`` names (``None``: the unified sets)."""
    if splits_block is None or splits_block.from_ != "file":
        return None
    path = Path(splits_block.path).expanduser()
    return FileDeletionSet(path if path.is_absolute() else base_dir / path, splits_block.layout)


def file_notes(ds: FileDeletionSet, warnings: list[str]) -> dict:
    """What a cell records about a file-given Df (its quirks as warnings)."""
    return {"deletion_set": {"from": "file", "path": str(ds.path), "layout": ds.layout, "warnings": warnings}}


def file_settings(splits_block, base_dir: Path) -> dict | None:
    """What a file-given Df contributes to cell keys: its layout and its files' content hash, so a run
    with other deletion files (or the unified sets) never resumes these cells."""
    import hashlib

    ds = deletion_file(splits_block, base_dir)
    if ds is None:
        return None
    h = hashlib.sha256()
    for file in sorted(ds.path.iterdir()) if ds.path.is_dir() else [ds.path]:
        h.update(file.name.encode() + b"\0" + file.read_bytes())
    return {"from": "file", "layout": ds.layout, "sha256": h.hexdigest()[:16]}
