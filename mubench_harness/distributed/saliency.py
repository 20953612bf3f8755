"""SalUn's saliency mask where the trained model is sharded (ZeRO-3, FSDP): computed and held in shards.

A rank never holds the whole gradient, the whole scores, the whole mask or the whole θo values:

- the gradient Σ_{x ∈ Df} ∇(−measure) is taken through a sharded copy of the model (FSDP2 ``fully_shard`` as
  the run's trainer, or a ZeRO-3 engine with the run's ZeRO section and an SGD optimiser that is never
  stepped): the ranks split Df's batches (rank r takes batches r, r+N, …), the engine reduce-scatters each
  backward into the rank's shard and accumulates there. Both engines average over the ranks, so the shard
  is multiplied back by the number of ranks (and, under fp16, divided by DeepSpeed's loss scale). Every rank
  runs the same number of passes (each forward/backward is a collective): a rank left without a batch in
  the last round runs one zero-weighted pass, which is not counted as FLOs (one process never runs it);
- the global top fraction is chosen exactly as one process chooses it
  (:func:`~mubench_harness.unlearning.scope.top_entries`: scalar counts added over the ranks, ties at the
  threshold in global position order), each rank marking its own entries;
- each rank keeps the mask and θo values of its own shard (θo cut from the whole model every rank keeps
  on the CPU anyway) and :func:`shard_keeper` writes them back after every step. A ZeRO-3 parameter under
  DeepSpeed's persistence threshold is also held whole on every rank and the forward reads that copy: its
  whole mask is gathered (small by definition of the threshold).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.distributed as dist


def sharded_mask(model: torch.nn.Module, rows, batch_size: int, measure, fraction: float, accelerator, device,
                 meter=None) -> "ShardSaliencyMask":
    """SalUn's mask over ``model``'s trainable parameters, computed through a sharded copy (every rank calls it)."""
    from accelerate.utils import DistributedType

    from ..unlearning.scope import mask_size, top_entries, trainable
    from .ranks import gather, rank_and_world, sum_all

    rank, world = rank_and_world()
    names = [n for n, _ in trainable(model)]
    plain = dict(trainable(model))
    model.to("cpu")  # the device holds one whole copy at most while the engine partitions its own
    work = copy.deepcopy(model).eval()
    deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
    engine, scale = (_zero3_engine(work, accelerator) if deepspeed else (accelerator.prepare(work), 1.0))
    module = getattr(engine, "module", engine)
    backward = engine.backward if deepspeed else torch.Tensor.backward
    try:
        first, mine, n = None, 0, 0
        for i, batch in enumerate(rows.batches(batch_size)):
            n = i + 1
            if first is None:
                first = batch
            if i % world != rank:
                continue
            mine += 1
            batch = {k: v.to(device) for k, v in batch.items()}
            pass_ = lambda b=batch: backward(-measure(engine, b).sum())  # noqa: E731
            meter.step("saliency", len(batch["idx"]), pass_) if meter is not None else pass_()
        for _ in range(math.ceil(n / world) - mine):  # the ranks' passes pair up: this one's last is empty
            batch = {k: v.to(device) for k, v in first.items()}
            backward(-measure(engine, batch).sum() * 0.0)
        sharded = dict(module.named_parameters())
        scores = [_local_grad(sharded[name], world, scale).abs() for name in names]
        total = sum(_whole_numel(sharded[name]) for name in names)
        chosen = top_entries(scores, mask_size(fraction, total), sum_all, gather, rank)
        held = {name: _held(sharded[name], plain[name], m, rank, world) for name, m in zip(names, chosen)}
        fraction_held = sum_all([float(sum(int(m.sum()) for m in chosen))])[0] / max(total, 1)
        # what this rank holds of the mask: its shard (a persistent parameter's whole mask too)
        local = sum(h[1].numel() + (h[3][0].numel() if h[3] is not None else 0) for h in held.values())
    finally:
        destroy = getattr(engine, "destroy", None)
        if callable(destroy) and deepspeed:
            destroy()
        models = getattr(accelerator, "_models", None)  # Accelerate keeps what it prepared: let this copy go
        if isinstance(models, list) and any(m is engine for m in models):
            models[:] = [m for m in models if m is not engine]
        del engine, module, work
        model.to(device)
    return ShardSaliencyMask(held, fraction_held, local, total)


def _zero3_engine(module: torch.nn.Module, accelerator):
    """A ZeRO-3 engine over ``module`` with the run's ZeRO section and precision, whose optimiser is never
    stepped (it only gives DeepSpeed its gradient partitions); (engine, what its gradients are scaled by)."""
    import deepspeed

    run = accelerator.state.deepspeed_plugin.deepspeed_config
    config = {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
              "zero_optimization": dict(run["zero_optimization"]),
              # a client torch optimiser, never stepped: DeepSpeed would refuse it as untested or not its CPU Adam
              "zero_allow_untested_optimizer": True, "zero_force_ds_cpu_optimizer": False}
    for key in ("bf16", "fp16"):
        if key in run:
            config[key] = run[key]
    optimizer = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.0)
    engine, *_ = deepspeed.initialize(model=module, optimizer=optimizer, config=config)
    engine.eval()
    scale = float(getattr(engine.optimizer, "loss_scale", 1.0) or 1.0) if engine.fp16_enabled() else 1.0
    return engine, scale


def _local_grad(p: torch.nn.Parameter, world: int, scale: float) -> torch.Tensor:
    """This rank's entries of the summed gradient, flat, in global position order (padding cut off)."""
    if hasattr(p, "ds_tensor"):
        from deepspeed.utils import safe_get_local_grad

        g = safe_get_local_grad(p)
        valid = _zero3_valid(p)
        g = torch.zeros(valid) if g is None else g.detach().flatten()[:valid].float()
    else:  # an FSDP2 DTensor: its local rows
        g = torch.zeros(p.to_local().numel()) if p.grad is None else p.grad.to_local().detach().flatten().float()
    return g * (world / scale)


def _zero3_valid(p) -> int:
    n = p.ds_tensor.numel()
    return max(0, min(n, p.ds_numel - dist.get_rank() * n))


def _whole_numel(p) -> int:
    return p.ds_numel if hasattr(p, "ds_numel") else p.numel()


def _held(p, whole: torch.Tensor, chosen: torch.Tensor, rank: int, world: int) -> tuple:
    """(kind, local mask, local θo, whole mask and θo of a persistent ZeRO-3 parameter or None)."""
    value = whole.detach().float().flatten()
    if hasattr(p, "ds_tensor"):
        n = p.ds_tensor.numel()
        start, valid = rank * n, chosen.numel()
        mask = torch.cat([chosen, chosen.new_zeros(n - valid)])
        local_value = torch.cat([value[start:start + valid], value.new_zeros(n - valid)])
        persist = None
        if getattr(p, "ds_persist", False):
            parts = [torch.empty(n, dtype=torch.uint8) for _ in range(world)]
            dist.all_gather(parts, mask.to(torch.uint8))
            persist = (torch.cat(parts)[:p.ds_numel].bool().view(whole.shape), whole.detach().clone())
        return "zero3", mask, local_value, persist
    local = p.to_local()
    rows = math.ceil(whole.shape[0] / world) if whole.dim() else 0  # FSDP2's dim-0 chunks
    start = min(rank * rows, whole.shape[0]) * (whole.numel() // max(whole.shape[0], 1))
    return "fsdp", chosen.view(local.shape), value[start:start + local.numel()].view(local.shape), None


class ShardSaliencyMask:
    """The SaliencyMask a sharded run holds: this rank's part of the mask and of θo (``held``)."""

    def __init__(self, held: dict[str, tuple], fraction: float, local: int, total: int):
        self.held_local, self.fraction, self.local_entries, self.total_entries = held, fraction, local, total

    def keeper(self, model: torch.nn.Module) -> tuple[Callable[[], None], Callable[[], None]]:
        return shard_keeper(model, self.held_local)

    def detach(self) -> None:
        """Nothing is hooked on the whole model: the sharded copy's keeper is released by ``ctx.train``."""


def shard_keeper(model: torch.nn.Module, held: dict[str, tuple]) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(after_step, detach)`` writing each rank's held entries back into its own shard after every step: the
    FSDP2 local shard, ZeRO-3's partition and fp32 master partition (and a persistent parameter's whole copy).
    No gradient hook (a whole-shaped gradient would need the whole mask): the held entries' gradients reach
    the optimiser, which moves them, and they are put back before the next forward; the entries that move
    are exactly where one process puts them while the optimisers are elementwise and nothing clips by a
    global norm (:func:`~mubench_harness.unlearning.scope.saliency_mask` keeps the whole route where the
    DeepSpeed JSON sets ``gradient_clipping``)."""
    named = dict(model.named_parameters())
    missing = set(held) - set(named)
    if missing:
        raise ValueError(f"held entries name parameters the model does not have: {sorted(missing)[:3]}")
    writers = []
    for name, (kind, mask, value, persist) in held.items():
        p = named[name]
        if kind == "fsdp":
            local = p.to_local()  # read again at each write: the shard the optimiser stepped
            m, v = mask.to(local.device), value.to(local.device, local.dtype)
            writers.append(lambda p=p, m=m, v=v: p.to_local().copy_(torch.where(m, p.to_local(), v)))
        else:
            writers.append(_zero3_local_writer(p, mask, value, persist))

    @torch.no_grad()
    def after_step() -> None:
        for write in writers:
            write()

    return after_step, lambda: None


def _zero3_local_writer(p, mask: torch.Tensor, value: torch.Tensor, persist) -> Callable[[], None]:
    from deepspeed.utils import safe_get_local_fp32_param, safe_set_local_fp32_param

    m, v = mask.to(p.ds_tensor.device), value.to(p.ds_tensor.device)
    whole = None if persist is None else (persist[0].to(p.device), persist[1].to(p.device, p.dtype))

    def write():
        kept = torch.where(m, safe_get_local_fp32_param(p).flatten(), v)
        safe_set_local_fp32_param(p, kept)
        p.ds_tensor.copy_(kept.to(p.ds_tensor.dtype))
        if whole is not None:  # below the persistence threshold the forward reads the whole copy
            p.data.copy_(torch.where(whole[0], p.data, whole[1]))

    return write
