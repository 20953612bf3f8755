"""The ``Accelerator`` a benchmark file's ``distributed:`` block asks for, and whole weights out of shards.

Sharding itself is Accelerate's, DeepSpeed's and torch's, as they are: ``DeepSpeedPlugin`` with the user's
JSON, ``FullyShardedDataParallelPlugin(fsdp_version=2)`` on GPUs, torch's ``fully_shard`` on CPU ranks
(:mod:`.fsdp`: Accelerate shards on accelerators only); nothing here partitions a tensor by hand.
"""
from __future__ import annotations

import copy
import os
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
    # Accelerate ignores DeepSpeed and FSDP under cpu=True; on a machine without CUDA they run on the CPU
    # anyway (gloo; DeepSpeed's CPU accelerator), so cpu=True is only passed to keep a present GPU unused
    cpu = not use_cuda and (not kwargs or torch.cuda.is_available())
    if kwargs and "LOCAL_RANK" not in os.environ:
        _one_rank_group()
    if kwargs and not use_cuda and d.backend != "fsdp":
        from accelerate import PartialState

        # and without CUDA, cpu=False would leave Accelerate's process state at one process (no group):
        # set it up as multi-CPU over gloo first; the Accelerator below shares it
        PartialState(cpu=True)
    if d.backend == "fsdp" and not use_cuda:
        return _cpu_fsdp(bench)
    accelerator = Accelerator(cpu=cpu, mixed_precision=bench.mixed_precision, **kwargs)
    if kwargs and not sharded_training(accelerator):
        from ..config import DeviceUnavailable

        # an unlaunched process gets plain PyTorch from Accelerate here: never record a run that did not happen
        raise DeviceUnavailable(f"distributed backend {d.backend} runs under a launcher: mubench run FILE "
                                f"--launcher torchrun (or torchrun -m mubench_harness run FILE)")
    return accelerator


def _cpu_fsdp(bench):
    """FSDP2 on CPU ranks (:mod:`.fsdp`): Accelerate wraps FSDP on accelerators only and would silently
    run data parallel here."""
    from ..config import DeviceUnavailable
    from .fsdp import TorchFsdp

    if bench.mixed_precision == "fp16":
        # fp16 needs a loss scaler, which FSDP on CPU lacks: small gradients would silently underflow
        raise DeviceUnavailable("distributed backend fsdp on CPU runs fp32 or bf16, not fp16 (no loss scaler "
                                "without CUDA): set mixed_precision: bf16 or no")
    return TorchFsdp(bench.mixed_precision)


def _one_rank_group() -> None:
    """Make an unlaunched process a group of one rank (loopback, a free port), as a launcher would: DeepSpeed
    and FSDP then run in it (ZeRO in one process) instead of looking for MPI or falling back to plain PyTorch."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": "0", "WORLD_SIZE": "1",
                       "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"}.items():
        os.environ.setdefault(key, value)


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
    """A plain (unsharded, unwrapped) module holding ``model``'s whole weights: ``model`` unwrapped when
    its parameters are whole, else a copy of the unsharded ``like`` filled from the gathered shards.
    Evaluation, hashing and signals read this one."""
    module = accelerator.unwrap_model(model) if accelerator is not None else model
    # ZeRO-1/2 hold whole weights, but as views into DeepSpeed's flat buffers (which safetensors refuses to
    # save and DeepSpeed keeps writing): those are copied out too
    engine_owned = module is not model and sharded_training(accelerator)
    if not partitioned(module) and not engine_owned:
        return module
    plain = copy.deepcopy(like)
    if engine_owned:  # ``like`` may be that very module: give its copy's parameters storage of their own
        for p in plain.parameters():
            p.data = p.data.clone()
    trained_back(model, plain, accelerator)
    return plain


def partitioned(module: torch.nn.Module) -> bool:
    """Whether ``module``'s parameters are shards (ZeRO-3's ``ds_id`` parameters, FSDP2's DTensors)."""
    from torch.distributed.tensor import DTensor

    return any(hasattr(p, "ds_id") or isinstance(p, DTensor) for p in module.parameters())


def local_numel(module: torch.nn.Module) -> int:
    """Parameter entries this rank holds: its ZeRO-3 partition or FSDP2 shard, else every entry (a ZeRO-3
    parameter under DeepSpeed's persistence threshold is held whole beside its partition)."""
    from torch.distributed.tensor import DTensor

    total = 0
    for p in module.parameters():
        if getattr(p, "ds_persist", False):
            total += p.ds_tensor.numel() + p.ds_numel
        elif hasattr(p, "ds_tensor"):
            total += p.ds_tensor.numel()
        elif isinstance(p, DTensor):
            total += p.to_local().numel()
        else:
            total += p.numel()
    return total


def sharded_training(accelerator) -> bool:
    """Whether the optimiser keeps its own (partitioned) master weights: any DeepSpeed ZeRO stage, FSDP.
    There a method trains a sharded copy and reads whole weights only after the loop."""
    if accelerator is None:
        return False
    from accelerate.utils import DistributedType

    return accelerator.distributed_type in (DistributedType.DEEPSPEED, DistributedType.FSDP)


def trained_back(prepared: torch.nn.Module, plain: torch.nn.Module, accelerator) -> None:
    """Copy the whole trained weights of ``prepared`` (sharded) into the unsharded ``plain`` module."""
    state = whole_state_dict(prepared, accelerator)
    with torch.no_grad():
        for name, tensor in plain.state_dict(keep_vars=True).items():
            tensor.copy_(state[name].to(tensor.dtype))
