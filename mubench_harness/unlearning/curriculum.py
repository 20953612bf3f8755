"""SuperLoss (Castells, Weinzaepfel & Revaud, NeurIPS 2020) as a per-term curriculum.

For a per-sample loss ℓᵢ with threshold τ and regularisation λ, the confidence minimising
(ℓᵢ − τ)σ + λ(log σ)² has the closed form σᵢ* = exp(−W(½·max(−2/e, (ℓᵢ − τ)/λ))) with W the principal
branch of the Lambert W function. σᵢ* is treated as a constant (no gradient through it). τ is an
exponential moving average (momentum 0.9) of the batch-mean loss, initialised by the first batch.
Each loss term of a method owns one :class:`SuperLoss` (its own τ).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import lambertw


class SuperLoss:
    def __init__(self, lam: float = 1.0, ema: float = 0.9):
        if lam <= 0:
            raise ValueError(f"SuperLoss λ must be positive, got {lam}")
        self.lam, self.ema = lam, ema
        self.tau: float | None = None

    def sigma(self, loss: torch.Tensor) -> torch.Tensor:
        """σ* per sample for the current τ (no gradient)."""
        beta = ((loss.detach().double().cpu().numpy() - self.tau) / self.lam) * 0.5
        # ½·max(−2/e, ·) keeps W real; at the branch point W(−1/e) = −1 exactly (scipy returns NaN there)
        at_branch = beta <= -1.0 / math.e
        w = np.where(at_branch, -1.0, lambertw(np.where(at_branch, 0.0, beta), k=0).real)
        return torch.from_numpy(np.exp(-w)).to(loss.device, loss.dtype)

    def __call__(self, loss: torch.Tensor) -> torch.Tensor:
        """Per-sample SuperLoss values [B] of per-sample losses [B]; updates τ from this batch."""
        batch_mean = float(loss.detach().mean())
        self.tau = batch_mean if self.tau is None else self.ema * self.tau + (1 - self.ema) * batch_mean
        sigma = self.sigma(loss)
        return (loss - self.tau) * sigma + self.lam * torch.log(sigma).pow(2)
