"""Parameter scope: which parameters a method moves.

- *dense*: every trainable parameter (the default: nothing to do);
- :class:`SaliencyMask`: SalUn's mask over the trainable parameters; masked-out entries are held
  EXACTLY at their starting values — their gradients are zeroed (as SalUn does) *and* they are copied
  back after every optimiser step, because weight decay and momentum move them even with a zero
  gradient;
- :class:`LoraScope`: LoRA adapters through peft, merged back into a plain model before it is
  returned. The trainable fraction is LoRA parameters / base model parameters; the classification
  head, kept fully trainable through ``modules_to_save``, is reported separately. Targets: the ones
  the benchmark names, else the ones the model family declares (``built.info["lora_targets"]``:
  the UNet's ``to_q``/``to_v`` for Stable Diffusion, the convolutions of a CNN), else the attention
  query/value projections, else every Linear layer, else every convolution. Modules whose weights are
  frozen (a diffusion model's text encoder) are never adapted: no gradient could reach them.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

#: names of attention query/value projections across transformers architectures
#: (BERT/ViT/ELECTRA: query/value; LLaMA/Whisper/BART: q_proj/v_proj; T5: q/v; DistilBERT: q_lin/v_lin;
#: diffusers' attention: to_q/to_v)
QUERY_VALUE = ("query", "value", "q_proj", "v_proj", "q", "v", "q_lin", "v_lin", "to_q", "to_v")
#: layers peft's LoRA can adapt and merge back (grouped convolutions — depthwise ones — cannot be merged)
CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: direct children that are a classification head (kept trainable under LoRA)
HEAD_NAMES = ("classifier", "score", "head", "fc")


def trainable(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


# -- saliency ----------------------------------------------------------------------------------------
def saliency(model: nn.Module, rows, batch_size: int, measure: Callable[[nn.Module, dict], torch.Tensor],
             device=None, meter=None) -> dict[str, torch.Tensor]:
    """|∇θ Σ_{x ∈ rows} −measure(θ; x)| over ALL batches of ``rows``, in eval mode.

    The sum over every sample (not a mean per batch) is the full-data gradient: no batch is dropped
    and a short last batch weighs what its samples weigh. With a ``meter``, the FLOs are counted like
    a training phase's: the first batch under the op-level counter, the rest scaled by their samples.
    Launched on several ranks, rank r takes batches r, r+N, … and the signed sums are added over the
    ranks before the absolute value: the same sum, each batch computed once.
    """
    from ..distributed.ranks import rank_and_world, sum_tensors

    was_training = model.training
    model.eval()
    params = trainable(model)
    for _, p in params:
        p.grad = None
    rank, world = rank_and_world()
    for i, batch in enumerate(rows.batches(batch_size)):
        if i % world != rank:
            continue
        if device is not None:
            batch = {k: v.to(device) for k, v in batch.items()}
        pass_ = lambda b=batch: (-measure(model, b).sum()).backward()  # noqa: E731
        if meter is not None:
            meter.step("saliency", len(batch["idx"]), pass_)
        else:
            pass_()
    sums = sum_tensors([p.grad if p.grad is not None else torch.zeros_like(p) for _, p in params])
    out = {n: g.detach().abs() for (n, _), g in zip(params, sums)}
    for _, p in params:
        p.grad = None
    model.train(was_training)
    return out


def saliency_mask(model: nn.Module, rows, batch_size: int, measure, fraction: float, *, accelerator=None,
                  device=None, meter=None):
    """SalUn's mask: the top ``fraction`` of :func:`saliency`'s scores, held by a :class:`SaliencyMask`.
    Where the trained copy is sharded (ZeRO-3, FSDP) the gradient, the scores, the mask and θo are each
    rank's shard only (:func:`mubench_harness.distributed.saliency.sharded_mask`: the same entries); a
    DeepSpeed JSON that clips gradients by their global norm keeps the whole route (its gradient hooks keep
    held entries out of the norm)."""
    from ..distributed.engine import is_sharded

    if is_sharded(accelerator) and not _clips(accelerator):
        from ..distributed.saliency import sharded_mask

        return sharded_mask(model, rows, batch_size, measure, fraction, accelerator, device, meter)
    scores = saliency(model, rows, batch_size, measure, device=device, meter=meter)
    return SaliencyMask(model, top_fraction_mask(scores, fraction))


def _clips(accelerator) -> bool:
    plugin = getattr(accelerator.state, "deepspeed_plugin", None) if hasattr(accelerator, "state") else None
    clip = (plugin.deepspeed_config.get("gradient_clipping", 0) if plugin is not None else 0) or 0
    return not isinstance(clip, str) and float(clip) > 0


def top_fraction_mask(scores: dict[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """Boolean masks selecting exactly ``round(fraction · N)`` entries with the highest scores, globally
    across all tensors, by :func:`top_entries`' rule (ties: the lower global position first — tensors in
    ``scores``' order, each flattened)."""
    k = mask_size(fraction, sum(s.numel() for s in scores.values()))
    chosen = top_entries([s.flatten() for s in scores.values()], k)
    return {name: m.view_as(s) for (name, s), m in zip(scores.items(), chosen)}


def mask_size(fraction: float, total: int) -> int:
    if not 0 <= fraction <= 1:
        raise ValueError(f"mask fraction must be in [0, 1], got {fraction}")
    return round(fraction * total)


#: bit patterns of non-negative float32 scores are ordered like the scores; bisection runs over [0, 2**31)
_BITS = 31


def top_entries(pieces: list[torch.Tensor], k: int, sum_counts: Callable[[list[float]], list[float]] | None = None,
                gather_counts: Callable[[list[int]], list[list[int]]] | None = None, rank: int = 0) -> list[torch.Tensor]:
    """The ``k`` highest of the non-negative scores in ``pieces``, as one boolean mask per (flat) piece:
    higher score first, then lower global position. The one definition the single process and the sharded
    ranks share: ``pieces`` are this rank's parts of each tensor in the tensors' order, and a tensor's
    parts on ranks 0, 1, … lie in that order in its flattened whole (ZeRO-3's flat partitions, FSDP2's row
    chunks), so a global position is (tensor, rank, index). ``sum_counts`` adds a list over the ranks and
    ``gather_counts`` gathers one from each rank in rank order (identities in one process); ``rank``: this one's.

    The threshold T, the k-th highest score, is found by bisection over the scores' float32 bit patterns
    (monotone for non-negative floats): 31 steps, each counting the entries ≥ a candidate, one scalar added
    over the ranks. Every entry above T is taken; of the entries equal to T, the first ``k − #above`` in
    global position, from each rank's count of ties per tensor (one all-gather)."""
    sum_counts = sum_counts or (lambda values: list(values))
    gather_counts = gather_counts or (lambda values: [list(values)])
    if k <= 0:
        return [torch.zeros(p.numel(), dtype=torch.bool, device=p.device) for p in pieces]
    bits = [p.detach().flatten().float().view(torch.int32) for p in pieces]

    def at_least(t: int) -> int:
        return int(sum_counts([float(sum(int((b >= t).sum()) for b in bits))])[0])

    lo, hi = 0, 1 << _BITS  # at_least(lo) >= k (every entry, k <= N), at_least(hi) = 0 < k
    if at_least(lo) < k:
        raise ValueError(f"cannot select {k} entries of {at_least(lo)}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if at_least(mid) >= k else (lo, mid)
    need = k - at_least(lo + 1)  # ties at T to take, 1 ≤ need ≤ #ties
    ties = [int((b == lo).sum()) for b in bits]
    per_rank = gather_counts(ties)
    chosen, before = [], 0
    for i, b in enumerate(bits):
        ahead = before + sum(counts[i] for counts in per_rank[:rank])  # ties at lower positions of this tensor
        take = max(0, min(ties[i], need - ahead))
        tie = b == lo
        chosen.append((b > lo) | (tie & (torch.cumsum(tie, 0) <= take)))
        before += sum(counts[i] for counts in per_rank)
    return chosen


class SaliencyMask:
    """Keeps every entry outside ``masks`` exactly at its value when the mask is attached."""

    def __init__(self, model: nn.Module, masks: dict[str, torch.Tensor]):
        named = dict(trainable(model))
        missing = set(masks) - set(named)
        if missing:
            raise ValueError(f"mask names parameters the model does not train: {sorted(missing)[:3]}")
        self.names = list(masks)
        self.entries = [(named[n], m.to(named[n].device), named[n].detach().clone()) for n, m in masks.items()]
        self.hooks = [p.register_hook(lambda g, m=m: g * m) for p, m, _ in self.entries]

    def held(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """name -> (mask, the values held where it is False): what a sharded copy of the model must keep
        (:func:`mubench_harness.distributed.shards.entry_keeper`, through ``UnlearnContext.train(keep=)``)."""
        return {n: (m, frozen) for n, (_, m, frozen) in zip(self.names, self.entries)}

    @property
    def fraction(self) -> float:
        total = sum(m.numel() for _, m, _ in self.entries)
        return sum(int(m.sum()) for _, m, _ in self.entries) / max(total, 1)

    @torch.no_grad()
    def after_step(self) -> None:
        for p, m, frozen in self.entries:
            p.copy_(torch.where(m, p, frozen))

    def detach(self) -> None:
        for h in self.hooks:
            h.remove()
        self.hooks = []


# -- LoRA ---------------------------------------------------------------------------------------------
def head_modules(model: nn.Module, task_kind: str) -> list[str]:
    """Classification heads to keep fully trainable (generation keeps none: its head is the tied vocab)."""
    if task_kind != "classification":
        return []
    return [n for n, _ in model.named_children() if n in HEAD_NAMES]


def adaptable(name: str, module: nn.Module, heads: list[str]) -> bool:
    """A trainable Linear or ungrouped convolution outside the heads."""
    if isinstance(module, CONVS):
        if module.groups != 1:
            return False
    elif not isinstance(module, nn.Linear):
        return False
    if any(name == h or name.startswith(h + ".") for h in heads):
        return False
    return module.weight.requires_grad


def lora_targets(model: nn.Module, heads: list[str], targets: list[str] | None = None,
                 declared: list[str] | None = None) -> list[str]:
    """Full names of the layers to adapt (trainable Linear layers and ungrouped convolutions).

    ``targets`` (the benchmark's) and ``declared`` (the model family's) are suffixes of module
    names. Without either: the attention query/value projections; a model without any gets every
    Linear layer outside its head (an MLP), else every convolution (a CNN).
    """
    layers = [(n, m) for n, m in model.named_modules() if adaptable(n, m, heads)]
    for suffixes, whose in ((targets, "lora targets"), (declared, "the model family's lora targets")):
        if suffixes:
            chosen = [n for n, _ in layers if any(n == t or n.endswith("." + t) for t in suffixes)]
            if not chosen:
                raise ValueError(f"{whose} {list(suffixes)} match no Linear layer or convolution that "
                                 f"{type(model).__name__} trains")
            return chosen
    query_value = [n for n, _ in layers if n.rsplit(".", 1)[-1] in QUERY_VALUE]
    linears = [n for n, m in layers if isinstance(m, nn.Linear)]
    return query_value or linears or [n for n, _ in layers]


def rank_cost(module: nn.Module) -> int:
    """LoRA parameters per unit of rank: A (in × kernel) and B (out) for a convolution, in + out for a Linear."""
    if isinstance(module, CONVS):
        return module.in_channels * math.prod(module.kernel_size) + module.out_channels
    return module.in_features + module.out_features


#: what a model may read off a convolution it calls (MobileNetV2's TF-style padding reads ``stride``)
CONV_GEOMETRY = ("kernel_size", "stride", "padding", "dilation", "groups", "in_channels", "out_channels")


def expose_geometry(wrapped: nn.Module) -> None:
    """peft's LoRA convolution wraps the original one without its geometry attributes; copy them up
    so a model that reads them off the layer it calls keeps working."""
    for module in wrapped.modules():
        base = getattr(module, "base_layer", None)
        if isinstance(base, CONVS) and not isinstance(module, CONVS):
            for attr in CONV_GEOMETRY:
                if not hasattr(module, attr):
                    setattr(module, attr, getattr(base, attr))


class LoraScope:
    """Wraps a model with peft LoRA adapters; :meth:`merge` returns the plain model."""

    def __init__(self, args, task_kind: str, declared: list[str] | None = None):
        self.args, self.task_kind, self.declared = args, task_kind, declared
        self.info: dict = {}
        self.frozen: set[str] = set()

    def wrap(self, model: nn.Module) -> nn.Module:
        from peft import LoraConfig, get_peft_model

        heads = head_modules(model, self.task_kind)
        targets = lora_targets(model, heads, self.args.targets, self.declared)
        self.frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
        modules = dict(model.named_modules())
        per_rank = sum(rank_cost(modules[t]) for t in targets)
        # the base is what dense unlearning would train: a diffusion model's frozen text encoder and
        # VAE are not part of it
        base = sum(p.numel() for p in model.parameters() if p.requires_grad)
        head = sum(p.numel() for h in heads for p in modules[h].parameters())
        rank = self.args.rank or max(1, round(self.args.trainable_fraction * base / per_rank))
        config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=self.args.dropout,
                            target_modules=targets, modules_to_save=heads or None)
        wrapped = get_peft_model(model, config)
        expose_geometry(wrapped)
        lora = sum(p.numel() for n, p in wrapped.named_parameters() if "lora_" in n)
        self.info = {"lora_rank": rank, "lora_targets": targets, "lora_params": lora, "base_params": base,
                     "lora_fraction": lora / base, "head_modules": heads, "head_params": head}
        return wrapped

    def merge(self, wrapped: nn.Module) -> nn.Module:
        model = wrapped.merge_and_unload()
        for name, p in model.named_parameters():  # what was frozen before (a text encoder) stays frozen
            p.requires_grad_(name not in self.frozen)
        return model
