"""Running one cell across ranks: a thin adapter on Accelerate (DDP), DeepSpeed ZeRO and FSDP2.

Every rank launched by ``torchrun``/``accelerate launch`` (or ``mubench run --launcher``) runs the same
cells in the same order. The one loop shards each global batch across ranks (the same seeded
permutation everywhere) and weighs each rank's loss so the averaged gradient equals a single process's;
per step the ranks agree on the loss, on a non-finite loss and on the time budget, so no rank stops
alone. Rank 0 alone writes ``results.db``, caches and checkpoints; after a method the unlearned weights
are consolidated (gathered from their shards) and evaluated once.

- :mod:`.ranks`: who am I, and the few collectives the harness needs (agree, sum, broadcast, gather);
- :mod:`.engine`: the ``Accelerator`` a benchmark file asks for, and whole weights out of shards;
- :mod:`.fsdp`: FSDP2 on CPU ranks (torch's ``fully_shard`` over gloo; Accelerate shards on accelerators only);
- :mod:`.shards`: entries held in sharded weights (SalUn's mask), a penalty on the weights (l1-sparse's norm:
  its gradient where the optimiser steps each shard), frozen models held sharded (Bad-T's random teacher,
  the original a method reads);
- :mod:`.config`: the DeepSpeed JSON (no torch: ``mubench validate`` reads it);
- :mod:`.launch`: ``mubench run --launcher torchrun|accelerate`` re-executes itself under the launcher.

Importing this package imports no torch.
"""
from __future__ import annotations

import os


def rank() -> int:
    """This process's global rank (0 when not launched)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """How many ranks run the cell (1 when not launched)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """Only the main rank writes the results database, caches and checkpoints."""
    return rank() == 0
