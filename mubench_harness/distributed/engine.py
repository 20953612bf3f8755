"""The ``Accelerator`` a benchmark file's ``distributed:`` block asks for, and whole weights out of shards.

Sharding itself is Accelerate's and DeepSpeed's, as they are: ``DeepSpeedPlugin`` with the user's JSON,
``FullyShardedDataParallelPlugin(fsdp_version=2)``; nothing here partitions a tensor by hand.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch

from .config import deepspeed_config


def build_accelerator(bench, *, use_cuda: bool, base_dir: Path):
    """An ``accelerate.Accelerator`` for ``bench.distributed`` (``None`` for ``backend: none`` in one
    process; several launched ranks always get one: data parallel at least)."""
    from accelerate import Accelerator

    from . import world_size

    d = bench.distributed
    if d.backend == "none" and world_size() == 1:
        return None
    kwargs = {}
    if d.backend == "deepspeed":
        from accelerate.utils import DeepSpeedPlugin

        path = None if d.config is None else (Path(d.config) if Path(d.config).is_absolute() else base_dir / d.config)
        kwargs["deepspeed_plugin"] = DeepSpeedPlugin(hf_ds_config=deepspeed_config(d.zero_stage, path, bench.mixed_precision))
    elif d.backend == "fsdp":
        from accelerate.utils import FullyShardedDataParallelPlugin

        # FSDP2, every parameter sharded; the harness reads whole weights through get_state_dict
        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin(fsdp_version=2, reshard_after_forward=True,
                                                               state_dict_type="FULL_STATE_DICT")
    return Accelerator(cpu=not use_cuda, mixed_precision=bench.mixed_precision, **kwargs)


def is_sharded(accelerator) -> bool:
    """Whether parameters are partitioned across ranks (ZeRO-3, FSDP): reading whole weights gathers."""
    if accelerator is None:
        return False
    from accelerate.utils import DistributedType

    if accelerator.distributed_type == DistributedType.DEEPSPEED:
        return accelerator.state.deepspeed_plugin.zero_stage == 3
    return accelerator.distributed_type == DistributedType.FSDP


def whole_state_dict(model: torch.nn.Module, accelerator) -> dict[str, torch.Tensor]:
    """Every parameter and buffer of a prepared ``model`` in full, on CPU, on every rank (a collective:
    every rank calls it). ZeRO-3 gathers through ``GatheredParameters`` (whatever the user's JSON says
    about 16-bit saving); FSDP2 through Accelerate's full state dict."""
    from accelerate.utils import DistributedType

    if accelerator is not None and accelerator.distributed_type == DistributedType.FSDP:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False,
                                                                    broadcast_from_rank0=False))
    module = accelerator.unwrap_model(model) if accelerator is not None else model
    if accelerator is not None and is_sharded(accelerator):
        import deepspeed

        with deepspeed.zero.GatheredParameters(list(module.parameters()), modifier_rank=None):
            return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def consolidated(model: torch.nn.Module, like: torch.nn.Module, accelerator) -> torch.nn.Module:
    """A plain (unsharded, unwrapped) copy of ``like`` holding ``model``'s whole weights; ``model`` itself
    when nothing is sharded. Evaluation, hashing and signals read this one."""
    if not is_sharded(accelerator):
        return accelerator.unwrap_model(model) if accelerator is not None else model
    state = whole_state_dict(model, accelerator)
    plain = copy.deepcopy(like)
    plain.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return plain
