"""Encoded, aligned tensor columns and the batches the loop consumes.

Tasks encode an HF ``Dataset`` once into :class:`Rows` (a dict of tensors sharing dim 0). Batching is
then one index operation per column: no per-row Python, no worker processes, which keeps the harness
within a few percent of a bare PyTorch loop. Every row carries its position in the task's training set
(``idx``), so Df/Dr membership survives shuffling, selection and corruption.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import torch


class Rows:
    def __init__(self, columns: Mapping[str, torch.Tensor]):
        lengths = {name: len(col) for name, col in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns differ in length: {lengths}")
        self.columns = dict(columns)
        if "idx" not in self.columns:
            self.columns["idx"] = torch.arange(len(self))

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.columns[name]

    def select(self, positions: Sequence[int] | torch.Tensor) -> Rows:
        pos = torch.as_tensor(positions, dtype=torch.long)
        return Rows({k: v[pos] for k, v in self.columns.items()})

    def replace(self, **columns: torch.Tensor) -> Rows:
        return Rows({**self.columns, **columns})

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        keys = parts[0].columns.keys()
        return Rows({k: torch.cat([p.columns[k] for p in parts]) for k in keys})

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
                yield {k: v[pos] for k, v in self.columns.items()}

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)


def to_device(batch: Mapping[str, torch.Tensor], device: torch.device | str) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
