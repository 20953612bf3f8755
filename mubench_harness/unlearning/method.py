"""Base of every method built from the pieces: optimiser rule, LoRA scope, curriculum, notes."""
from __future__ import annotations

import functools

import torch

from ..contracts import Unlearner, seeded
from ..training import OptimizerConfig
from .curriculum import SuperLoss
from .scope import LoraScope


class PieceMethod(Unlearner):
    """Subclasses implement :meth:`run` (build phases, call ``ctx.train``) on the model they are given.

    :meth:`unlearn` wraps the model in LoRA when asked, runs the method, merges LoRA back and records
    what was used (optimiser rule, LoRA sizes, curriculum) in ``ctx.notes``.
    """

    #: one line saying how the loss is reduced, recorded with every result
    reduction: str = "mean over the batch"

    def unlearn(self, ctx) -> torch.nn.Module:
        # Everything a method draws from torch's global RNG (LoRA's initial A matrices, dropout in
        # the model) is seeded by the run seed, and the caller's RNG state is left untouched.
        with seeded(ctx.seed):
            return self._unlearn(ctx)

    def _unlearn(self, ctx) -> torch.nn.Module:
        given = self.args
        self.args, source = given.for_kind(ctx.task.kind)
        if source is not None:
            ctx.notes["kind_recipe"] = source
        try:
            return self._unlearn_with_args(ctx)
        finally:
            self.args = given  # a method object may serve cells of other kinds

    def _unlearn_with_args(self, ctx) -> torch.nn.Module:
        model = self.initial_model(ctx)
        lora = None
        if self.args.lora is not None:
            declared = (ctx.built.info or {}).get("lora_targets") if ctx.built is not None else None
            lora = LoraScope(self.args.lora, ctx.task.kind, declared)
            model = lora.wrap(model)
            ctx.notes.update(lora.info)
        if self.args.curriculum is not None:
            ctx.notes["curriculum"] = self.args.curriculum.model_dump()
        ctx.notes["reduction"] = self.reduction
        self.run(ctx, model)
        return lora.merge(model) if lora is not None else model

    def initial_model(self, ctx) -> torch.nn.Module:
        return ctx.model

    def run(self, ctx, model: torch.nn.Module) -> None:
        raise NotImplementedError

    def optimizer(self, ctx, batch_size: int | None = None) -> tuple[OptimizerConfig, int]:
        """The authors' optimiser from the args, or the paper's rule when the benchmark says so."""
        a = self.args
        authors = OptimizerConfig(name=a.optimizer.name, lr=a.lr, momentum=a.optimizer.momentum,
                                  weight_decay=a.optimizer.weight_decay)
        cfg, bs = ctx.rule.resolve(authors, batch_size or a.batch_size)
        ctx.notes["optimizer_rule"] = ctx.rule.name
        ctx.notes.setdefault("batch_sizes", []).append(bs)
        return cfg, bs

    def lr_schedule(self, ctx, steps_per_epoch: int):
        """The args' warm-up and decay as a factor per optimiser step (transformers' linear schedule
        with warm-up: n/W during the W warm-up steps, then (T − n)/(T − W)), or ``None`` for a
        constant rate. Part of the authors' recipe: other optimiser rules run at a constant rate.
        Args models with a published schedule (NPO's) declare ``warmup_epochs`` and ``lr_decay``."""
        a = self.args
        warmup_epochs, decay = getattr(a, "warmup_epochs", 0.0), getattr(a, "lr_decay", "constant")
        if ctx.rule.name != "authors" or (warmup_epochs == 0 and decay == "constant"):
            return None
        warmup, total = round(warmup_epochs * steps_per_epoch), a.epochs * steps_per_epoch
        ctx.notes["lr_schedule"] = {"warmup_steps": warmup, "total_steps": total, "decay": decay}
        return functools.partial(warmup_then_decay, warmup=warmup, total=total, decay=decay)

    def superloss(self) -> SuperLoss | None:
        """A fresh SuperLoss for one loss term (each term keeps its own threshold)."""
        c = self.args.curriculum
        return SuperLoss(c.lam, c.ema) if c is not None else None


def synchronize(device) -> None:
    """Wait for queued device work before reading a clock (CUDA runs asynchronously)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def warmup_then_decay(step: int, *, warmup: int, total: int, decay: str) -> float:
    if step < warmup:
        return step / warmup
    if decay == "constant":
        return 1.0
    return max(0.0, (total - step) / max(1, total - warmup))
