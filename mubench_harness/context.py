"""What an unlearner receives: the models, the data, the task primitives and the run's resources."""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .contracts import Built, Task, TrainRecipe
from .data import Rows
from .training import Budget, LoopResult, Meter, OptimizerConfig, Phase, make_optimizer, run_loop


@dataclass
class OptimizerRule:
    """``authors``: each method's own recipe. ``paper``: MU-Bench's rule (Adam, batch 32, lr).
    ``mubench``: the MU-Bench authors' code for this (task, method): its optimiser, lr, batch size and
    epochs (:func:`mubench_harness.training_recipes.mubench_unlearning`; the runner sets the epochs)."""

    name: str = "authors"
    lr: float = 1e-4
    batch_size: int = 32
    optimizer: str = "adam"
    weight_decay: float = 0.0
    epochs: int | None = None

    def resolve(self, authors: OptimizerConfig, batch_size: int) -> tuple[OptimizerConfig, int]:
        if self.name in ("paper", "mubench"):
            return OptimizerConfig(name=self.optimizer, lr=self.lr, weight_decay=self.weight_decay), self.batch_size
        return authors, batch_size


@dataclass
class UnlearnContext:
    task: Task
    model: torch.nn.Module  # trainable copy of the original, on the device
    #: the frozen original (eval mode, no grad) as a method reads it: the runtime's model itself, or under
    #: ZeRO-3/FSDP a copy held in shards like the student, built the first time it is read (see below)
    original: torch.nn.Module
    built: Built  # processor and build info of the original
    forget: Rows  # Df, encoded
    retain: Rows  # Dr, encoded
    seed: int
    #: a freshly initialised model of the same architecture, seeded (Bad-T's incompetent teacher)
    fresh_model: Callable[[int], torch.nn.Module]
    #: the original's starting weights (pretrained body with a fresh head), for exact retraining
    starting_model: Callable[[], torch.nn.Module]
    recipe: TrainRecipe = field(default_factory=TrainRecipe)
    rule: OptimizerRule = field(default_factory=OptimizerRule)
    accelerator: Any = None
    budget: Budget = field(default_factory=Budget)
    meter: Meter = field(default_factory=Meter)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    #: filled by :meth:`train`: what the loop reports back to the runner (cut by budget, steps...)
    result: LoopResult = field(default_factory=LoopResult)
    #: free-form facts a method wants recorded with its result (reductions used, mask fraction...)
    notes: dict[str, Any] = field(default_factory=dict)
    #: frozen models built for this cell and held in shards (Bad-T's random teacher): released with the cell
    frozen: list[torch.nn.Module] = field(default_factory=list)

    def original_changed(self) -> bool:
        """Whether the method changed the sharded copy of the original it read (``False`` where it read the
        whole original, which the harness checks by its hash, or none). A collective where a copy was built."""
        from .distributed.shards import frozen_changed

        held, whole = self.__dict__["_held_original"], self.__dict__["_whole_original"]
        if held is None or held is whole:
            return False
        return frozen_changed(held, whole, self.accelerator)

    def release_frozen(self) -> None:
        """Let this cell's sharded frozen models go (the original's copy included; no collective)."""
        from .distributed.shards import release_frozen

        held = self.__dict__["_held_original"]
        if held is not None and held is not self.__dict__["_whole_original"]:
            self.frozen.append(held)
        self.__dict__["_held_original"] = None
        while self.frozen:
            release_frozen(self.frozen.pop())

    def generator(self, salt: int = 0) -> torch.Generator:
        """A generator seeded from the run seed, independent of global RNG state."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + salt)

    def train(
        self,
        model: torch.nn.Module,
        schedule: Callable[[int], Sequence[Phase]],
        *,
        epochs: int,
        optimizer: OptimizerConfig,
        after_step: Callable[[], None] | None = None,
        params=None,
        lr_schedule: Callable[[int], float] | None = None,
        keep=None,
        l1: Callable[[int], float] | None = None,
    ) -> LoopResult:
        """Run the shared loop under this cell's budget and meter; results accumulate in ``result``.

        ``lr_schedule``: the factor of the learning rate after ``n`` optimiser steps (a method's
        warm-up and decay), stepped after every optimiser step.

        Under ZeRO or FSDP the loop trains a sharded copy and ``model`` gets its whole weights back when
        the loop ends, so what a method does after training (merging LoRA, returning the model) reads
        whole weights; ``model`` waits on the CPU meanwhile.

        ``keep``: entries held at fixed values (a :class:`~mubench_harness.unlearning.scope.SaliencyMask`):
        its own ``after_step`` on a model trained whole, the same entries in each rank's shards (and the
        optimiser's master weights) when the trained copy is sharded.

        ``l1``: α_t of a penalty α_t·Σ|θ| over the trainable parameters in epoch t (l1-sparse), whole or
        sharded (:class:`~mubench_harness.distributed.shards.L1Penalty`): its gradient added where the
        optimiser steps the weights, its value added to the recorded loss."""
        from .distributed.engine import sharded_training, trained_back

        plain, sharded = model, sharded_training(self.accelerator)
        if sharded:
            if after_step is not None or params is not None:
                raise NotImplementedError(
                    "a method that edits weights after each step or trains a subset of parameters by hand "
                    "does not run under DeepSpeed ZeRO or FSDP (their optimizers keep their own master weights; "
                    "a mask held through train(keep=) does): use distributed backend accelerate for it")
            # ``plain`` waits whole on the CPU; its copy gets partitioned, taken there so that the device never
            # holds two whole copies (the engine moves the copy there, DeepSpeed whole, FSDP2 block by block)
            plain.to("cpu")
            model = copy.deepcopy(plain)
        opt = make_optimizer(params if params is not None else model.parameters(), optimizer)
        penalty = None
        if l1 is not None:
            from .distributed.shards import L1Penalty

            # on the torch optimiser itself: Accelerate wraps it, DeepSpeed steps it on its master partitions
            penalty = L1Penalty(l1)
            schedule = penalty.schedule(schedule)
            penalty.hook = opt.register_step_pre_hook(penalty.pre_step)
        if self.accelerator is not None:
            model, opt = self.accelerator.prepare(model, opt)
        release = None
        if keep is not None and sharded:  # the sharded copy's own parameters hold the entries
            from .distributed.shards import entry_keeper

            module = self.accelerator.unwrap_model(model)
            # a mask computed on shards holds this rank's part only (distributed.saliency.ShardSaliencyMask)
            keeper = getattr(keep, "keeper", None)
            after_step, release = keeper(module) if keeper else entry_keeper(module, keep.held())
        elif keep is not None:
            after_step = keep.after_step if after_step is None else _chain(keep.after_step, after_step)
        if lr_schedule is not None:
            scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lr_schedule)
            inner = after_step

            def after_step():
                if inner is not None:
                    inner()
                scheduler.step()

        try:
            res = run_loop(
                model, schedule, epochs=epochs, optimizer=opt, seed=self.seed, accelerator=self.accelerator,
                after_step=after_step, budget=self.budget, meter=self.meter, device=self.device,
            )
        finally:
            if release is not None:
                release()
            if penalty is not None:
                penalty.hook.remove()
            if sharded:
                trained_back(model, plain, self.accelerator)  # a collective: every rank is here
                plain.to(self.device)
        self.result.steps += res.steps
        self.result.epochs += res.epochs
        self.result.seconds += res.seconds
        self.result.cut = self.result.cut or res.cut
        self.result.history += res.history
        self.notes["optimizer"] = optimizer.model_dump()
        return res


def _read_original(ctx: UnlearnContext) -> torch.nn.Module:
    # built on first read, not with the context: most methods never read the original, and under ZeRO-3/FSDP
    # building its shards is a collective every rank runs at the same point of the same method
    if ctx.__dict__["_held_original"] is None:
        from .distributed import shards

        ctx.__dict__["_held_original"] = shards.held_original(ctx.__dict__["_whole_original"], ctx.accelerator,
                                                              ctx.device)
    return ctx.__dict__["_held_original"]


def _set_original(ctx: UnlearnContext, module: torch.nn.Module) -> None:
    ctx.__dict__["_whole_original"], ctx.__dict__["_held_original"] = module, None


# a property over the dataclass field: ``UnlearnContext(original=...)`` sets the whole original, a method
# reading ``ctx.original`` gets what :func:`~.distributed.shards.held_original` holds
UnlearnContext.original = property(_read_original, _set_original)


def _chain(first: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        first()
        then()

    return both
