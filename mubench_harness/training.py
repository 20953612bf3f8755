"""The one optimisation loop. Original training, retraining and every unlearning method run through
:func:`run_loop`; a method supplies *phases* (a batch source and a loss) per epoch, never a loop.

The loop knows nothing of sweeps, the results database or the CLI. It is plain Python over plain
tensors: per step one batch index, one forward/backward through the phase's loss, one optimiser step.
"""
from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch
from pydantic import BaseModel, ConfigDict, Field

from .data import Rows, iter_batches, to_device
from .distributed.ranks import rank_and_world, sum_all

LossFn = Callable[[torch.nn.Module, dict], torch.Tensor]

#: The optimisation step now running (``None`` outside the loop). A loss that draws randomness per step
#: (diffusion's x_t, t and ε) keys the draw on it, so every term of one step — student, frozen teacher or
#: reference, another conditioning of the same row — sees the same draw, whichever tensor objects or
#: train/eval modes it is called with; outside a step (evaluation) such a loss uses fixed randomness.
CURRENT_STEP: ContextVar[int | None] = ContextVar("mubench_current_step", default=None)
_STEP_IDS = itertools.count()


class OptimizerConfig(BaseModel):
    """An optimiser and its hyper-parameters; recorded with every result."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field("adam", pattern="^(adam|adamw|sgd)$")
    lr: float = Field(1e-3, gt=0)
    momentum: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)


def make_optimizer(params, cfg: OptimizerConfig) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


class NonFiniteLoss(RuntimeError):
    """A loss became NaN or infinite: the cell fails instead of recording garbage."""


@dataclass
class Phase:
    """One pass over ``rows`` in batches of ``batch_size``, minimising ``loss``."""

    name: str
    rows: Rows
    batch_size: int
    loss: LossFn
    shuffle: bool = True
    #: stop the pass after this many steps (``None``: the whole of ``rows``)
    max_steps: int | None = None


@dataclass
class Budget:
    """Allowance of a method (a fraction of retraining's): wall-clock seconds, or FLOs counted by
    ``meter``. ``None``: unlimited."""

    max_seconds: float | None = None
    max_flops: float | None = None
    meter: Meter | None = None
    started: float = field(default_factory=time.perf_counter)

    def exceeded(self) -> bool:
        if self.max_seconds is not None and time.perf_counter() - self.started > self.max_seconds:
            return True
        return self.max_flops is not None and self.meter is not None and self.meter.flops > self.max_flops


@dataclass
class Meter:
    """Accumulates FLOs of everything a method computes (teacher and reference passes included).

    Counting every step under ``FlopCounterMode`` would slow the loop several-fold, so each phase is
    counted on its first batch and scaled by the samples it processes (shapes are fixed per phase).
    """

    flops: float = 0.0
    per_sample: dict[str, float] = field(default_factory=dict)

    def count(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` once, adding every FLO it performs (mask, teacher or reference computations)."""
        out, flops = _counted(fn)
        self.flops += flops
        return out

    def step(self, phase: str, n: int, fn: Callable[[], object]) -> object:
        """Run one training step of ``n`` samples; the first of a phase is counted, the rest scaled."""
        if phase not in self.per_sample:
            out, flops = _counted(fn)
            self.per_sample[phase] = flops / max(n, 1)
        else:
            out = fn()
        self.flops += self.per_sample[phase] * n
        return out


def _counted(fn: Callable[[], object]) -> tuple[object, float]:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        out = fn()
    return out, float(counter.get_total_flops())


@dataclass
class LoopResult:
    steps: int = 0
    epochs: int = 0
    seconds: float = 0.0
    cut: bool = False  # stopped by the budget
    #: mean loss per (epoch, phase name)
    history: list[tuple[int, str, float]] = field(default_factory=list)


def run_loop(
    model: torch.nn.Module,
    schedule: Callable[[int], Sequence[Phase]],
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    seed: int,
    accelerator=None,
    after_step: Callable[[], None] | None = None,
    budget: Budget | None = None,
    meter: Meter | None = None,
    device: torch.device | str | None = None,
) -> LoopResult:
    """Run ``epochs`` epochs; epoch ``e`` runs the phases ``schedule(e)`` in order.

    ``after_step`` runs after every optimiser step (SalUn re-imposes frozen entries there).
    Shuffling uses a generator seeded from ``seed``, independent of global RNG state.
    """
    gen = torch.Generator().manual_seed(seed)
    rank, world = rank_and_world() if accelerator else (0, 1)
    device = device or (accelerator.device if accelerator else next(model.parameters()).device)
    backward = accelerator.backward if accelerator else torch.Tensor.backward
    result = LoopResult()
    start = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        for phase in schedule(epoch):
            total, count = 0.0, 0
            # every rank draws the same global batches; each then takes its share (see _shard)
            batches = iter_batches(phase.rows, phase.batch_size, shuffle=phase.shuffle, generator=gen, device=device)
            for i, batch in enumerate(batches):
                if phase.max_steps is not None and i >= phase.max_steps:
                    break
                batch, share = _shard(batch, rank, world)
                batch = to_device(batch, device)
                optimizer.zero_grad(set_to_none=True)
                step = lambda: _step(phase.loss, model, batch, backward, share * world)  # noqa: E731
                loss = meter.step(phase.name, len(batch["idx"]), step) if meter is not None else step()
                optimizer.step()
                if after_step is not None:
                    after_step()
                value, stop = loss.item() * share, budget is not None and budget.exceeded()
                if world > 1:  # one small collective a step: the global loss, and no rank stops alone
                    value, stop = sum_all([value, float(stop)])
                if not math.isfinite(value):
                    raise NonFiniteLoss(f"loss is {value} at epoch {epoch}, phase {phase.name!r}, step {i}")
                total += value
                count += 1
                result.steps += 1
                if stop:
                    result.cut = True
                    break
            result.history.append((epoch, phase.name, total / max(count, 1)))
            if result.cut:
                break
        result.epochs = epoch + 1
        if result.cut:
            break
    result.seconds = time.perf_counter() - start
    return result


def _shard(batch: dict[str, torch.Tensor], rank: int, world: int) -> tuple[dict[str, torch.Tensor], float]:
    """This rank's rows of a global batch and their share of it. Rank r takes rows r, r+world, ...; the
    loss it backpropagates is weighted by share·world, so the gradients the ranks average equal the
    single-process gradient of the global batch's mean loss, an uneven last batch included. A global
    batch smaller than ``world`` is taken whole by every rank (share 1/world): no rank idles a step."""
    n = len(batch["idx"])
    if world == 1:
        return batch, 1.0
    if n < world:
        return batch, 1.0 / world
    local = {k: v[rank::world] for k, v in batch.items()}
    return local, len(local["idx"]) / n


def _step(loss_fn: LossFn, model, batch, backward, weight: float = 1.0) -> torch.Tensor:
    token = CURRENT_STEP.set(next(_STEP_IDS))
    try:
        loss = loss_fn(model, batch)
        backward(loss * weight if weight != 1.0 else loss)
    finally:
        CURRENT_STEP.reset(token)
    return loss.detach()
