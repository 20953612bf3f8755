"""Arguments every method shares (pydantic, no torch: plugin top modules import these).

A method's own args model subclasses :class:`MethodArgs` and overrides the defaults with its authors'
recipe (DESIGN.md §4), and lists in ``kind_recipes`` the recipes they published for other task kinds
(SalUn's Stable Diffusion recipe). ``optimizer: paper`` in a benchmark replaces lr/optimizer/batch size through
``ctx.rule``; what was used is recorded in ``ctx.notes``.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OptimizerArgs(BaseModel):
    """The optimiser of a method's authors' recipe (the learning rate is the method's ``lr``)."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["adam", "adamw", "sgd"] = "adam"
    momentum: float = Field(0.0, ge=0, description="SGD momentum")
    weight_decay: float = Field(0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        # ``optimizer: sgd`` in a YAML file is shorthand for ``{name: sgd}``
        return {"name": value} if isinstance(value, str) else value


class LoraArgs(BaseModel):
    """LoRA through peft. Give ``rank`` or ``trainable_fraction`` (LoRA params / base params)."""

    model_config = ConfigDict(extra="forbid")
    rank: int | None = Field(None, ge=1, description="LoRA rank r (lora_alpha = r)")
    trainable_fraction: float | None = Field(
        None, gt=0, le=1, description="target LoRA parameters / base model parameters; the rank is derived")
    targets: list[str] | None = Field(
        None, description="module-name suffixes to adapt; default: the model family's declared targets "
                          "(Stable Diffusion: the UNet's to_q/to_v; CNNs: convolutions), else attention "
                          "query/value projections, else every Linear layer outside the head, else every convolution")
    dropout: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_size(self):
        if (self.rank is None) == (self.trainable_fraction is None):
            raise ValueError("lora needs exactly one of 'rank' or 'trainable_fraction'")
        return self


class CurriculumArgs(BaseModel):
    """SuperLoss (Castells et al. 2020) on each per-sample loss term, each with its own state."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["superloss"] = "superloss"
    lam: float = Field(1.0, gt=0, description="SuperLoss regularisation λ")
    ema: float = Field(0.9, ge=0, lt=1, description="momentum of the moving-average threshold τ")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


class MethodArgs(BaseModel):
    """Axes every method has. Subclasses override defaults with their authors' recipe."""

    model_config = ConfigDict(extra="forbid")
    lr: float = Field(1e-4, gt=0, description="learning rate")
    epochs: int = Field(1, ge=1, description="passes over the method's data")
    batch_size: int = Field(32, ge=1)
    optimizer: OptimizerArgs = Field(default_factory=OptimizerArgs, description="authors' optimiser")
    lora: LoraArgs | None = Field(None, description="train LoRA adapters instead of all parameters")
    curriculum: CurriculumArgs | None = Field(None, description="'superloss' curriculum on each loss term")

    #: the authors' recipe for a task kind where they published one apart from their main recipe (the
    #: defaults): kind -> (where it comes from, field values). Fields a benchmark sets explicitly win.
    kind_recipes: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {}

    def for_kind(self, kind: str) -> tuple[MethodArgs, str | None]:
        """These args under the recipe for ``kind`` (and its source), or themselves (and ``None``)."""
        source, values = self.kind_recipes.get(kind, (None, None))
        if values is None:
            return self, None
        explicit = self.model_dump(include=self.model_fields_set)
        return type(self).model_validate({**values, **explicit}), source


class RelabelArgs(BaseModel):
    """RandLabel's draw (RandLabel, SalUn). Unset: SalUn's code under ``optimizer: authors`` (redrawn
    every epoch over all classes), the paper's intent otherwise (one draw of a wrong label)."""

    relabel: Literal["once", "epoch"] | None = Field(
        None, description="once: Df targets drawn once per run; epoch: redrawn every epoch (SalUn's code). "
                          "Unset: epoch under optimizer: authors, else once")
    include_true: bool | None = Field(
        None, description="draw from ALL classes, the true one included (SalUn's code). "
                          "Unset: true under optimizer: authors, else false (a wrong label)")


def sgd(momentum: float = 0.9, weight_decay: float = 5e-4) -> Any:
    """Default factory for an SGD authors' recipe."""
    return Field(default_factory=lambda: OptimizerArgs(name="sgd", momentum=momentum, weight_decay=weight_decay),
                 description="authors' optimiser")


def adam(name: str = "adam", weight_decay: float = 0.0) -> Any:
    return Field(default_factory=lambda: OptimizerArgs(name=name, weight_decay=weight_decay),
                 description="authors' optimiser")
