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


def top_fraction_mask(scores: dict[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """Boolean masks selecting exactly ``round(fraction · N)`` entries with the highest scores, globally
    across all tensors (ties broken by position)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"mask fraction must be in [0, 1], got {fraction}")
    flat = torch.cat([s.flatten().float() for s in scores.values()])
    k = round(fraction * flat.numel())
    chosen = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    if k:
        chosen[torch.topk(flat, k, sorted=False).indices] = True
    masks, start = {}, 0
    for name, s in scores.items():
        masks[name] = chosen[start : start + s.numel()].view_as(s)
        start += s.numel()
    return masks


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
