"""Weights where they are sharded: entries held (SalUn's mask), a penalty on them (l1-sparse), frozen copies.

A method that holds some entries of a parameter at fixed values (SalUn: the entries outside its saliency
mask stay exactly at θo) must write them back into every copy of the weights the optimiser updates or
the forward reads. In one process or under data parallel that is the parameter itself. Sharded, it is:

- ZeRO-1/2: the whole 16/32-bit parameter on every rank (what the forward reads), and this rank's fragment
  of the flat fp32 master partition the optimiser updates (``param._hp_mapping``: its offset in the
  flattened parameter);
- ZeRO-3: this rank's partition ``param.ds_tensor`` (the flattened parameter, padded, split evenly by
  rank) and the fp32 master partition of the same layout (DeepSpeed's local fp32 API); a parameter under
  DeepSpeed's persistence threshold (``stage3_param_persistence_threshold``) is also kept whole on every
  rank, and that copy is what the forward reads;
- FSDP2: the parameter's local shard (a ``DTensor``; the optimiser updates it directly), whose layout
  torch's ``distribute_tensor`` gives.

Here every rank holds the whole mask and values (they are computed identically everywhere) and cuts its
own part: no collective per step. That is the route where the model is whole on each rank or the DeepSpeed
JSON clips gradients; SalUn's mask computed on shards holds each rank's part only
(:mod:`.saliency`, its :func:`~.saliency.shard_keeper`). The parameter's kind is read off the parameter, so a method never asks
which engine runs it. The same holds for a penalty on the weights themselves (l1-sparse's α·Σ|θ|,
:class:`L1Penalty`): its gradient is added where the optimiser steps each of these copies, its value
summed over each rank's own entries. Frozen models a method reads are held in shards too
(:func:`shard_frozen`, :func:`held_original`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch


def entry_keeper(model: torch.nn.Module, held: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(after_step, detach)`` for ``model`` (plain, or prepared by data parallel, ZeRO or FSDP):
    ``after_step`` sets every entry where ``held[name][0]`` (a boolean mask of the parameter's whole
    shape) is False back to ``held[name][1]`` (the whole values); gradient hooks zero those entries'
    gradients where the gradient passes through the parameter (``detach`` removes them)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    named = dict(model.named_parameters())
    missing = set(held) - set(named)
    if missing:
        raise ValueError(f"held entries name parameters the model does not have: {sorted(missing)[:3]}")
    writers, hooks = [], []
    for name, (mask, value) in held.items():
        p = named[name]
        if isinstance(p, DTensor):
            # FSDP2 sets the shard's gradient itself (reduce-scatter), past any hook on it: the entries are
            # put back after each step, which leaves the entries that move exactly where they would be
            # (the optimisers are elementwise and nothing clips by a global norm)
            m = distribute_tensor(mask.to(p.device), p.device_mesh, p.placements)
            v = distribute_tensor(value.to(p.device, p.dtype), p.device_mesh, p.placements)
            writers.append(lambda p=p, m=m, v=v: p.copy_(torch.where(m, p, v)))
            continue
        hooks.append(p.register_hook(lambda g, m=mask.to(p.device): g * m))
        if hasattr(p, "ds_tensor"):
            writers.append(_zero3_writer(p, mask, value))
        else:
            if hasattr(p, "_hp_mapping"):
                writers.append(_zero12_master_writer(p, mask, value))
            m, v = mask.to(p.device), value.to(p.device, p.dtype)
            writers.append(lambda p=p, m=m, v=v: p.copy_(torch.where(m, p, v)))

    @torch.no_grad()
    def after_step() -> None:
        for write in writers:
            write()

    def detach() -> None:
        for h in hooks:
            h.remove()
        hooks.clear()

    return after_step, detach


def _zero3_part(p: torch.Tensor, full: torch.Tensor) -> torch.Tensor:
    """This rank's ZeRO-3 partition of a whole tensor of ``p``'s shape: the flattened tensor, padded to
    ranks × partition size, cut at rank × partition size (DeepSpeed's partitioning)."""
    import torch.distributed as dist

    n = p.ds_tensor.numel()
    flat = full.flatten()
    flat = torch.cat([flat, flat.new_zeros(max(0, n * dist.get_world_size() - flat.numel()))])
    return flat[dist.get_rank() * n:(dist.get_rank() + 1) * n]


def _zero3_writer(p, mask: torch.Tensor, value: torch.Tensor) -> Callable[[], None]:
    from deepspeed.utils import safe_get_local_fp32_param, safe_set_local_fp32_param

    m = _zero3_part(p, mask).to(p.ds_tensor.device)
    v = _zero3_part(p, value.float()).to(p.ds_tensor.device)

    whole_m, whole_v = mask.to(p.device), value.to(p.device, p.dtype)

    def write():
        master = safe_get_local_fp32_param(p)
        kept = torch.where(m, master.flatten(), v)
        safe_set_local_fp32_param(p, kept)
        p.ds_tensor.copy_(kept.to(p.ds_tensor.dtype))
        if getattr(p, "ds_persist", False):  # below DeepSpeed's persistence threshold: also whole on every
            p.data.copy_(torch.where(whole_m, p.data, whole_v))  # rank, and the forward reads that copy

    return write


def _zero12_master_writer(p, mask: torch.Tensor, value: torch.Tensor) -> Callable[[], None]:
    mapping = p._hp_mapping
    if mapping is None:  # this rank's master partition holds none of ``p``
        return lambda: None
    address = mapping.lp_fragment_address
    m = mask.flatten().narrow(0, address.start, address.numel)
    v = value.float().flatten().narrow(0, address.start, address.numel)

    def write():
        fragment = mapping.get_hp_fragment()
        fragment.copy_(torch.where(m.to(fragment.device), fragment, v.to(fragment.device)))

    return write


class L1Penalty:
    """α_t·Σ|θ| over the trainable parameters (l1-sparse), on whole weights and on shards alike.

    Its gradient, α_t·sign(θ) elementwise (torch's ``abs`` backward: 0 at 0), is added where the optimiser
    steps each parameter — a step pre-hook on the torch optimiser the harness built, which is the one that
    steps the whole parameter (one process, data parallel), ZeRO's fp32 master partition (DeepSpeed calls
    it with the partition's averaged gradient) or FSDP2's shard — so it is added once, after the ranks'
    gradients are averaged: the loop's share·world weighting of each rank's loss never touches it, and no
    rank needs a weight it does not hold. Its value is added to each phase's loss without gradient, so the
    recorded loss is task loss + α_t·Σ|θ| (:func:`weights_l1`: a collective on shards)."""

    def __init__(self, alpha: Callable[[int], float]):
        self.alpha_of, self.alpha = alpha, 0.0

    def schedule(self, schedule):
        """``schedule`` with α_t set when epoch t starts and each phase's loss carrying the term's value."""
        from dataclasses import replace

        def each(epoch: int):
            self.alpha = float(self.alpha_of(epoch))
            return [replace(phase, loss=self._valued(phase.loss)) for phase in schedule(epoch)]

        return each

    def _valued(self, loss):
        def with_l1(model, batch):
            # α_t is the same on every rank, so either every rank joins weights_l1's collective or none does;
            # read before the forward, when every parameter is in its resting form (FSDP2 leaves the root's
            # gathered after its forward)
            value = self.alpha * weights_l1(model) if self.alpha else 0.0
            return loss(model, batch) + value

        return with_l1

    @torch.no_grad()
    def pre_step(self, optimizer, args, kwargs) -> None:
        """Add α_t·sign(θ) to the gradient of every trainable parameter the optimiser is about to step
        (a trainable one without a gradient gets α_t·sign(θ) alone, as autograd of the term would give)."""
        if not self.alpha:
            return
        for group in optimizer.param_groups:
            for p in group["params"]:
                if not p.requires_grad:
                    continue
                # nan_to_num: the padding of a ZeRO-3 partition is never initialised and never read back
                step = torch.sign(p).nan_to_num_(0.0).mul_(self.alpha)
                if p.grad is None:
                    p.grad = step.to(p.dtype)
                else:
                    p.grad.add_(step.to(p.grad.dtype))


def weights_l1(model: torch.nn.Module) -> float:
    """Σ|θ| over the trainable parameters of the module being trained, whole, on every rank: a whole
    parameter's entries where it is whole (one process, data parallel, ZeRO-1/2), else each rank's own
    entries — its ZeRO-3 partition (without the padding), its FSDP2 shard — added over the ranks (a
    collective: every rank calls it)."""
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor

    from .ranks import sum_all

    whole, local = [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if hasattr(p, "ds_tensor"):  # a persistent parameter is also whole: its partition counts once
            n = p.ds_tensor.numel()
            valid = max(0, min(n, p.ds_numel - dist.get_rank() * n))
            local.append(p.ds_tensor.detach().flatten()[:valid].float().abs().sum())
        elif isinstance(p, DTensor):
            local.append(p.to_local().detach().float().abs().sum())
        else:
            whole.append(p.detach().float().abs().sum())
    total = float(torch.stack(whole).sum()) if whole else 0.0
    if local:  # the same parameters are shards on every rank: every rank or none is here
        total += sum_all([float(torch.stack(local).sum()) if local else 0.0])[0]
    return total


def shard_frozen(module: torch.nn.Module, accelerator) -> torch.nn.Module:
    """A frozen model (Bad-T's random teacher, a method's copy of the original) held in shards where the trained
    model is: under FSDP ``fully_shard`` over the run's ranks, per block Hugging Face declares unsplittable
    (forward gathers one block at a time), under ZeRO-3 a DeepSpeed engine with the run's ZeRO section and
    no optimiser (ZeRO-3 inference: partitioned, gathered by its hooks in forward); otherwise ``module``. Every rank calls it, and every rank then
    runs the frozen model's forward each step (a collective, like the student's)."""
    from accelerate.utils import DistributedType

    from .engine import is_sharded

    if not is_sharded(accelerator):
        return module
    if accelerator.distributed_type == DistributedType.FSDP:
        import torch.distributed as dist
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh(accelerator.device.type, (dist.get_world_size(),))
        blocks = set(getattr(module, "_no_split_modules", None) or [])
        for block in list(module.modules())[1:]:  # per block, as the student: one block gathered at a time
            if type(block).__name__ in blocks:
                fully_shard(block, mesh=mesh)
        fully_shard(module, mesh=mesh)
        return module
    import deepspeed

    run = accelerator.state.deepspeed_plugin.deepspeed_config
    config = {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
              "zero_optimization": dict(run["zero_optimization"])}
    for key in ("bf16", "fp16"):  # held at the run's precision
        if key in run:
            config[key] = run[key]
    engine, *_ = deepspeed.initialize(model=module, config=config)
    engine.eval()  # DeepSpeed's eval() returns nothing
    return engine


def held_original(original: torch.nn.Module, accelerator, device) -> torch.nn.Module:
    """What a method reads as its frozen original (SCRUB's teacher, NPO's reference, Bad-T's retain
    teacher): ``original`` itself where the trained model is whole on each rank (one process, data
    parallel, ZeRO-1/2: no copy), else a frozen copy held in shards like the student (:func:`shard_frozen`).
    Every rank calls it (building the shards is a collective)."""
    import copy

    from .engine import is_sharded

    if not is_sharded(accelerator):
        return original
    # a copy: DeepSpeed casts the module it wraps to the run's precision and partitions it in place, and the
    # runtime's whole original must stay as it is for evaluation and the next cells
    frozen = copy.deepcopy(original).to(device).eval().requires_grad_(False)
    return shard_frozen(frozen, accelerator)


def frozen_changed(held: torch.nn.Module, whole: torch.nn.Module, accelerator) -> bool:
    """Whether the sharded frozen copy ``held`` no longer has ``whole``'s weights (compared at the copy's
    precision): the harness's check that a method left its original alone, where the method read a copy.
    Gathers the shards: a collective, every rank calls it and every rank gets the same answer."""
    from .engine import whole_state_dict

    state = whole_state_dict(held, accelerator)
    reference = whole.state_dict()
    if state.keys() != reference.keys():
        return True
    return any(not torch.equal(state[k], reference[k].detach().cpu().to(state[k].dtype)) for k in state)


def release_frozen(held: torch.nn.Module) -> None:
    """Let a frozen model built by :func:`shard_frozen` go: a DeepSpeed engine's own hooks and buffers are
    released by its ``destroy``; an FSDP module is freed with its last reference (not a collective)."""
    destroy = getattr(held, "destroy", None)
    if callable(destroy) and hasattr(held, "module"):  # a DeepSpeed engine (an nn.Module has no destroy)
        destroy()
