"""Rows and their columns: tensors in memory, or rows of a memory-mapped file (``DiskColumn``) that a
task writes through ``column_buffer`` when a column is too large for memory."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mubench_harness.data import SPILL_DIR, DiskColumn, Rows, column_buffer


def _columns(tmp_path, monkeypatch, n=10):
    """The same uint8 [n, 2, 3] column twice: in memory, and spilled to a file."""
    data = np.arange(n * 6, dtype=np.uint8).reshape(n, 2, 3)
    out = []
    for spill in (False, True):
        monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0" if spill else str(10**9))
        token = SPILL_DIR.set(tmp_path)
        try:
            buf = column_buffer(data.shape, np.uint8)
        finally:
            SPILL_DIR.reset(token)
        buf.write(0, data[:4])
        buf.write(4, data[4:])
        out.append(buf.finish())
    return data, out[0], out[1]


def test_a_large_column_is_spilled_to_a_file_and_reads_back_the_same(tmp_path, monkeypatch):
    data, memory, disk = _columns(tmp_path, monkeypatch)
    assert isinstance(memory, torch.Tensor) and isinstance(disk, DiskColumn)
    assert disk.path.parent == tmp_path and disk.shape == (10, 2, 3) and disk.dtype == torch.uint8
    assert torch.equal(memory, torch.from_numpy(data)) and torch.equal(disk.materialize(), memory)
    assert torch.equal(disk.gather([7, 2, 7]), memory[[7, 2, 7]]), "rows come back in the order asked"


def test_no_spill_folder_keeps_the_column_in_memory(monkeypatch):
    monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
    assert isinstance(column_buffer((3, 2), np.float32).array, np.ndarray)  # SPILL_DIR unset: memory


def test_rows_over_a_disk_column_behave_as_over_a_tensor(tmp_path, monkeypatch):
    _, memory, disk = _columns(tmp_path, monkeypatch)
    labels = torch.arange(10) % 3
    a, b = Rows({"x": memory, "labels": labels}), Rows({"x": disk, "labels": labels})
    pick = [9, 1, 4, 4, 0]
    sa, sb = a.select(pick), b.select(pick)
    assert isinstance(sb["x"], DiskColumn) and sb["x"].positions.tolist() == pick, "a selection keeps positions only"
    assert isinstance(sb.select([2, 0])["x"], DiskColumn) and sb.select([2, 0])["x"].positions.tolist() == [4, 9]
    for rows_a, rows_b in ((a, b), (sa, sb)):
        ga, gb = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        for x, y in zip(rows_a.batches(3, shuffle=True, generator=ga), rows_b.batches(3, shuffle=True, generator=gb)):
            assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    both = Rows.concat([sb, b.select([3])])
    assert isinstance(both["x"], DiskColumn) and both["x"].positions.tolist() == pick + [3]
    mixed = Rows.concat([sb, Rows({"x": memory[:2], "labels": labels[:2]})])
    assert isinstance(mixed["x"], torch.Tensor) and torch.equal(mixed["x"], torch.cat([memory[pick], memory[:2]]))


def test_the_digest_of_disk_rows_follows_their_content(tmp_path, monkeypatch):
    _, _, disk = _columns(tmp_path, monkeypatch)
    rows = Rows({"x": disk, "labels": torch.zeros(10, dtype=torch.long)})
    assert rows.select([1, 2]).digest() == rows.select([1, 2]).digest()
    assert rows.select([1, 2]).digest() != rows.select([2, 1]).digest() != rows.digest()
    _, _, other = _columns(tmp_path / "again", monkeypatch)
    assert Rows({"x": other, "labels": torch.zeros(10, dtype=torch.long)}).digest() == rows.digest(), \
        "the same content in another file: the same digest (cached originals and signals are reused)"


def test_a_column_is_written_in_order_and_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("MUBENCH_SPILL_BYTES", "0")
    token = SPILL_DIR.set(tmp_path)
    try:
        buf = column_buffer((4, 2), np.int64)
    finally:
        SPILL_DIR.reset(token)
    with pytest.raises(ValueError, match="expected row 0, got 2"):
        buf.write(2, np.zeros((2, 2)))
    buf.write(0, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="4 rows but 2 were written"):
        buf.finish()
