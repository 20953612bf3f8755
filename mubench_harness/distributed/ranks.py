"""The few collectives the harness itself needs; each is the identity in a single process."""
from __future__ import annotations

# object collectives pickle between this run's own ranks only (never a file or a foreign peer)
from typing import Any

import torch
import torch.distributed as dist


def active() -> bool:
    """Whether this process is one of several ranks of an initialised process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> tuple[int, int]:
    """(rank, ranks) of the process group (``(0, 1)`` outside one). Read from torch.distributed, not from
    Accelerate: under DeepSpeed on CPU Accelerate's state counts one process while DeepSpeed's group
    holds every rank."""
    if not active():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def sum_all(values: list[float]) -> list[float]:
    """Element-wise sums of ``values`` over every rank (float64, so a count stays exact)."""
    if not active():
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def any_rank(flag: bool) -> bool:
    """True on every rank when it is true on any: how ranks agree to stop together (budget, failure)."""
    return bool(sum_all([float(flag)])[0]) if active() else bool(flag)


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (a decision only rank 0 can take: what is pending, what is cached)."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not active():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if active():
        dist.barrier()


def shutdown() -> None:
    """Leave the process group once the run is over (every rank): a rank that exits holding it can abort
    in a communication thread's destructor, which the launcher reports as a failed run."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def sum_tensors(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """``tensors`` summed element-wise over every rank, in place (one collective each: no flat copy of them
    all, which for a whole model's gradients would be one more model's worth of memory)."""
    if active():
        for t in tensors:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return tensors
