"""Knowledge measurement: per-sample quantities [B] read from a model on a batch.

Every function returns one value per sample so that the SuperLoss curriculum can act per sample and
the reduction is stated once, by the caller (a mean over the batch). With a per-sample KL summed over
classes, the batch mean is exactly ``F.kl_div(..., reduction="batchmean")``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..contracts import Outputs


def kl_per_sample(student: Outputs, teacher: Outputs, tau: float = 1.0) -> torch.Tensor:
    """KL_τ(T‖θ) per sample, teacher-first: ``F.kl_div(log_softmax(zθ/τ), softmax(zT/τ))``.

    - class logits [B, C]: summed over classes (the mean over B is ``batchmean``);
    - token logits [B, T, V] with ``mask`` [B, T]: summed over the vocabulary, averaged over each
      sample's target tokens (a sample without target tokens contributes 0);
    - ``kind == "noise"`` (diffusion): there is no distribution to compare, so the measure is the
      mean squared error between predicted noises (the task must use the same x_t, t, ε for both).

    The τ² factor of distillation is *not* applied here (SCRUB applies it; Bad-T uses τ = 1).
    """
    if student.kind != teacher.kind:
        raise ValueError(f"cannot compare outputs of kind {student.kind!r} with {teacher.kind!r}")
    zs, zt = student.values, teacher.values.detach()
    if zs.shape != zt.shape:
        raise ValueError(f"student outputs {tuple(zs.shape)} and teacher outputs {tuple(zt.shape)} differ")
    if student.kind == "noise":
        return noise_mse_per_sample(zs, zt)
    if student.kind != "logits":
        raise ValueError(f"unknown outputs kind {student.kind!r}")
    kl = F.kl_div(F.log_softmax(zs.float() / tau, -1), F.softmax(zt.float() / tau, -1), reduction="none").sum(-1)
    if kl.dim() == 1:
        return kl
    if kl.dim() != 2:
        raise ValueError(f"logits must be [B, C] or [B, T, V], got {tuple(zs.shape)}")
    mask = student.mask if student.mask is not None else teacher.mask
    if mask is None:
        return kl.mean(1)
    mask = mask.to(kl.dtype)
    return (kl * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def noise_mse_per_sample(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over all but the batch dimension of (predicted − target)²."""
    return (predicted.float() - target.float()).pow(2).flatten(1).mean(1)


def representation(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The last hidden state as a per-sample vector [B, H] (mean over positions where there are any).

    Works for models that return ``hidden_states`` when asked (transformers models). Models that do
    not (the toy MLP) raise a clear error instead of silently measuring something else.
    """
    try:
        out = model(**inputs, output_hidden_states=True)
    except TypeError as err:  # forward() takes no output_hidden_states
        raise ValueError(f"{type(model).__name__} returns no hidden_states: representation measure unavailable") from err
    hidden = getattr(out, "hidden_states", None)
    if hidden is None and hasattr(out, "decoder_hidden_states"):
        hidden = out.decoder_hidden_states
    if not hidden:
        raise ValueError(f"{type(model).__name__} returns no hidden_states: representation measure unavailable")
    h = hidden[-1].float()
    if h.dim() == 3:
        mask = inputs.get("attention_mask")
        if mask is not None and mask.shape == h.shape[:2]:
            m = mask.to(h.dtype)[..., None]
            return (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return h.mean(1)
    return h.flatten(1)


def representation_mse_per_sample(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return (student - teacher.detach()).pow(2).mean(1)
