"""Encoded, aligned tensor columns and the batches the loop consumes.

Tasks encode an HF ``Dataset`` once into :class:`Rows` (a dict of columns sharing dim 0). Batching is
then one index operation per column: no per-row Python, no worker processes, which keeps the harness
within a few percent of a bare PyTorch loop. Every row carries its position in the task's training set
(``idx``), so Df/Dr membership survives shuffling, selection and corruption.

A column is a tensor, or a :class:`DiskColumn`: rows in a memory-mapped ``.npy`` file that a task
writes through :func:`column_buffer` when the column is too large to hold in memory (a full-size
video or image-pair dataset). Selecting rows of a disk column (Df, Dr, a retain sample) keeps only
positions; a batch reads just its rows from the file.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

#: folder where :func:`column_buffer` spills large columns (``None``: keep everything in memory);
#: the runner sets it to the run's cache folder
SPILL_DIR: ContextVar[Path | None] = ContextVar("mubench_spill_dir", default=None)
#: a column of more bytes than this is spilled to ``SPILL_DIR`` (environment ``MUBENCH_SPILL_BYTES``)
DEFAULT_SPILL_BYTES = 2 * 1024**3


class DiskColumn:
    """Rows ``positions`` of a read-only memory-mapped array (all rows when ``positions`` is None)."""

    def __init__(self, path: str | Path, digest: str, positions: np.ndarray | None = None):
        self.path, self.digest = Path(path), digest
        self.array = np.load(self.path, mmap_mode="r")
        self.positions = positions

    def __len__(self) -> int:
        return len(self.array) if self.positions is None else len(self.positions)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.array.shape[1:])

    @property
    def dtype(self) -> torch.dtype:
        return torch.from_numpy(np.empty(0, dtype=self.array.dtype)).dtype

    def _absolute(self, pos) -> np.ndarray:
        pos = np.asarray(pos, dtype=np.int64)
        return pos if self.positions is None else self.positions[pos]

    def _with_positions(self, positions: np.ndarray) -> DiskColumn:
        """Other rows of the same open file (no second map of it)."""
        out = DiskColumn.__new__(DiskColumn)
        out.path, out.digest, out.array, out.positions = self.path, self.digest, self.array, positions
        return out

    def take(self, pos) -> DiskColumn:
        """The rows at ``pos`` (relative to this column), still on disk."""
        return self._with_positions(self._absolute(pos))

    def gather(self, pos) -> torch.Tensor:
        """The rows at ``pos`` read into a tensor (in ascending file order, then put back in order)."""
        absolute = self._absolute(pos)
        order = np.argsort(absolute, kind="stable")
        block = self.array[absolute[order]]
        out = np.empty_like(block)
        out[order] = block
        return torch.from_numpy(out)

    def materialize(self) -> torch.Tensor:
        return self.gather(np.arange(len(self)))

    def content_hash(self) -> bytes:
        """The file's content digest (taken while it was written) and the rows selected from it."""
        rows = b"all" if self.positions is None else self.positions.tobytes()
        return self.digest.encode() + hashlib.sha256(rows).digest()


Column = torch.Tensor | DiskColumn


class ColumnBuffer:
    """A column being filled by a task's ``encode``: in memory, or a ``.npy`` file when it is large."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, folder: Path | None):
        self.path = None if folder is None else folder / f"column-{uuid.uuid4().hex}.npy"
        if self.path is None:
            self.array = np.empty(shape, dtype=dtype)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            self.array = np.lib.format.open_memmap(self.path, mode="w+", dtype=dtype, shape=shape)
        self._hash = hashlib.sha256(f"{np.dtype(dtype).str}:{shape}".encode())
        self._filled = 0

    def write(self, start: int, block: np.ndarray) -> None:
        """Rows ``start`` … ``start + len(block)`` (written in order, once each)."""
        if start != self._filled:
            raise ValueError(f"column rows must be written in order: expected row {self._filled}, got {start}")
        self.array[start : start + len(block)] = block
        self._hash.update(np.ascontiguousarray(block, dtype=self.array.dtype).tobytes())
        self._filled += len(block)

    def finish(self) -> Column:
        if self._filled != len(self.array):
            raise ValueError(f"column has {len(self.array)} rows but {self._filled} were written")
        if self.path is None:
            return torch.from_numpy(self.array)
        self.array.flush()
        del self.array  # close the writable map; the column reads the file read-only
        return DiskColumn(self.path, self._hash.hexdigest())


def column_buffer(shape: Sequence[int], dtype) -> ColumnBuffer:
    """Where a task writes a column it builds row block by row block: on disk under :data:`SPILL_DIR`
    when the column exceeds ``MUBENCH_SPILL_BYTES`` (default 2 GiB), otherwise in memory."""
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    limit = int(os.environ.get("MUBENCH_SPILL_BYTES", DEFAULT_SPILL_BYTES))
    folder = SPILL_DIR.get()
    return ColumnBuffer(shape, np.dtype(dtype), folder if folder is not None and size > limit else None)


def _take(col: Column, pos: torch.Tensor) -> Column:
    return col.take(pos.numpy()) if isinstance(col, DiskColumn) else col[pos]


def _gather(col: Column, pos: torch.Tensor) -> torch.Tensor:
    return col.gather(pos.numpy()) if isinstance(col, DiskColumn) else col[pos]


class Rows:
    def __init__(self, columns: Mapping[str, Column]):
        lengths = {name: len(col) for name, col in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns differ in length: {lengths}")
        self.columns = dict(columns)
        if "idx" not in self.columns:
            self.columns["idx"] = torch.arange(len(self))

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def select(self, positions: Sequence[int] | torch.Tensor) -> Rows:
        pos = torch.as_tensor(positions, dtype=torch.long)
        return Rows({k: _take(v, pos) for k, v in self.columns.items()})

    def replace(self, **columns: Column) -> Rows:
        return Rows({**self.columns, **columns})

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        out = {}
        for k in parts[0].columns:
            cols = [p.columns[k] for p in parts]
            if all(isinstance(c, DiskColumn) and c.path == cols[0].path for c in cols):
                out[k] = _concat_disk(cols)  # rows of one file: concatenate positions, not data
            else:
                out[k] = torch.cat([c.materialize() if isinstance(c, DiskColumn) else c for c in cols])
        return Rows(out)

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        rank: int = 0,
        world: int = 1,
    ) -> Iterator[dict[str, torch.Tensor]]:
        """Yield batches; with ``world > 1`` each process takes its stride of every global batch."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            pos = order[start : start + batch_size][rank::world]
            if len(pos):
                yield {k: _gather(v, pos) for k, v in self.columns.items()}

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def digest(self) -> str:
        """Content hash of every column (a disk column by its file's digest and selected rows)."""
        h = hashlib.sha256()
        for name in sorted(self.columns):
            col = self.columns[name]
            h.update(f"{name}:{col.dtype}:{tuple(col.shape)}".encode())
            if isinstance(col, DiskColumn):
                h.update(col.content_hash())
            else:
                h.update(col.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()[:20]


def _concat_disk(cols: list[DiskColumn]) -> DiskColumn:
    return cols[0]._with_positions(np.concatenate([c._absolute(np.arange(len(c))) for c in cols]))


def column_values(dataset, name: str) -> list:
    """One column of an HF ``Dataset`` (or a dict of lists) as a list, read from Arrow in one call:
    ``list(dataset[name])`` formats row by row (about 13 µs a row: 0.3 s for 25,000 texts)."""
    if hasattr(dataset, "with_format"):
        return dataset.with_format("arrow")[name].to_pylist()  # honours a selection's indices
    return list(dataset[name])


def to_device(batch: Mapping[str, torch.Tensor], device: torch.device | str) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@dataclass(frozen=True)
class BatchLoading:
    """How batches reach the model (a benchmark file's ``data_loader:``). ``workers == 0``: built in the
    training process, one at a time (:meth:`Rows.batches`). ``workers > 0``: a
    ``torch.utils.data.DataLoader`` whose worker processes gather (and read from disk) upcoming batches
    while the model computes, ``prefetch`` batches ahead per worker, into pinned memory when
    ``pin_memory`` (``None``: where the device is a GPU). The order of rows is always drawn in the
    training process from the loop's generator, so both paths yield the same batches bit for bit."""

    workers: int = 0
    pin_memory: bool | None = None
    prefetch: int = 2


#: the batch loading the runner chose for the cell running now (``None``: in process)
LOADING: ContextVar[BatchLoading | None] = ContextVar("mubench_batch_loading", default=None)


class _BatchGather(torch.utils.data.Dataset):
    """``dataset[positions]`` = the batch of those rows (what a worker computes)."""

    def __init__(self, rows: Rows):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, pos: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: _gather(v, pos) for k, v in self.rows.columns.items()}


def iter_batches(rows: Rows, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> Iterator[dict[str, torch.Tensor]]:
    """The batches of :meth:`Rows.batches`, through a ``DataLoader`` when :data:`LOADING` asks for workers."""
    loading = LOADING.get()
    if loading is None or loading.workers <= 0 or len(rows) == 0:
        yield from rows.batches(batch_size, shuffle=shuffle, generator=generator)
        return
    n = len(rows)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)  # as Rows.batches draws it
    positions = [order[start : start + batch_size] for start in range(0, n, batch_size)]
    pin = loading.pin_memory
    if pin is None:
        pin = torch.device(device).type == "cuda" if device is not None else False
    # the loader's own generator: its workers' base seed would otherwise be drawn from torch's global RNG,
    # moving the dropout stream of the model it feeds away from the in-process path's
    loader = torch.utils.data.DataLoader(
        _BatchGather(rows), sampler=positions, batch_size=None, num_workers=loading.workers,
        pin_memory=pin, prefetch_factor=loading.prefetch, generator=torch.Generator().manual_seed(0))
    yield from loader
