"""FSDP2 on CPU ranks: torch's ``fully_shard`` over gloo, behind the few ``Accelerator`` members the harness uses.

Accelerate wraps a model with FSDP only on accelerators (CUDA, XPU, ...): on CPU ranks its
``FullyShardedDataParallelPlugin`` silently gives plain data parallel. torch's FSDP2 itself runs on a CPU
device mesh over gloo, so without CUDA ``backend: fsdp`` uses it directly through this adapter (on GPUs the
harness keeps Accelerate's FSDP2 plugin). Sharding is torch's: every parameter becomes a ``DTensor`` sharded
on its first dimension across the ranks; nothing here partitions a tensor by hand.

The adapter offers what :func:`~mubench_harness.training.run_loop` and the runner call on an Accelerator:
``device``, ``distributed_type``, ``prepare(model, optimizer)``, ``backward``, ``unwrap_model``, ``free_memory``.
"""
from __future__ import annotations

import gc

import torch
import torch.distributed as dist


class TorchFsdp:
    """Full sharding (FSDP2, ``reshard_after_forward``) of every prepared model over all ranks, on CPU."""

    def __init__(self, mixed_precision: str = "no"):
        from accelerate.utils import DistributedType
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import MixedPrecisionPolicy

        if not dist.is_initialized():  # launched ranks (or the one-rank group) name the rendezvous in env
            dist.init_process_group("gloo")
        self.distributed_type = DistributedType.FSDP
        self.device = torch.device("cpu")
        self.mixed_precision = mixed_precision
        self.mesh = init_device_mesh("cpu", (dist.get_world_size(),))
        # bf16 compute with fp32 gradient reduction (the sum over ranks keeps full precision); fp16 has no
        # loss scaler on CPU, so the engine refuses it before getting here
        self.policy = (MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
                       if mixed_precision == "bf16" else MixedPrecisionPolicy())

    def prepare(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None):
        """Shard ``model`` in place (each block Hugging Face declares unsplittable, then the root) and point
        ``optimizer`` at the sharded parameters that replaced the whole ones."""
        from torch.distributed.fsdp import fully_shard

        names = {id(p): n for n, p in model.named_parameters()}
        blocks = set(getattr(model, "_no_split_modules", None) or [])
        for module in list(model.modules())[1:]:  # per block: only one block is gathered whole at a time
            if type(module).__name__ in blocks:
                fully_shard(module, mesh=self.mesh, mp_policy=self.policy)
        fully_shard(model, mesh=self.mesh, mp_policy=self.policy)
        if optimizer is None:
            return model
        if optimizer.state:
            raise ValueError("FSDP shards a model before its optimiser has taken a step (its state would not fit the shards)")
        sharded = dict(model.named_parameters())
        for group in optimizer.param_groups:
            group["params"] = [sharded[names[id(p)]] for p in group["params"]]
        return model, optimizer

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()  # FSDP2's hooks reduce-scatter the gradients (mean over ranks) into the shards

    def unwrap_model(self, model: torch.nn.Module) -> torch.nn.Module:
        return model  # FSDP2 shards the module in place: there is no wrapper

    def free_memory(self) -> None:
        gc.collect()
