"""mubench plugin compose: a method assembled from the taxonomy's pieces by its arguments, so a
benchmark file can define a new method without Python. Registration only (no torch)."""
from typing import Literal

from pydantic import Field, model_validator

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, adam

#: which knowledge measure each corruption can act on
VALID = {"gradient": ("loss", "logits"), "data": ("loss",), "model": ("logits",), "none": ("none",)}


class Args(MethodArgs):
    """Defaults compose NegGrad+retain-loss with Adam (the paper's rule); every piece is an argument."""

    lr: float = Field(1e-4, gt=0, description="learning rate")
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(32, ge=1)
    optimizer: OptimizerArgs = adam()
    forget_measure: Literal["loss", "logits", "none"] = Field("loss", description="knowledge measure on Df")
    corruption: Literal["gradient", "data", "model", "none"] = Field(
        "gradient", description="gradient: ascent; data: RandLabel targets; model: incompetent teacher")
    retain: Literal["none", "loss", "logits", "loss+logits"] = Field("loss", description="retention measure on Dr")
    scope: Literal["dense", "saliency"] = Field("dense", description="saliency: SalUn's mask over trainable entries")
    schedule: Literal["mixed", "interleaved"] = Field(
        "interleaved", description="mixed: Df and Dr rows in one shuffled pass, one mean per batch; "
                                   "interleaved: per epoch a Df pass then a Dr pass")
    mask_fraction: float = Field(0.5, ge=0, le=1, description="saliency scope: share of entries that move")
    retain_fraction: float = Field(1.0, gt=0, le=1, description="share of Dr used (seeded subset)")
    tau: float = Field(1.0, gt=0, description="temperature of logits measures (KL × τ²)")
    forget_weight: float = Field(1.0, ge=0)
    retain_weight: float = Field(1.0, ge=0)
    include_true: bool = Field(False, description="data corruption: draw from all classes")

    @model_validator(mode="after")
    def _valid_combination(self):
        if self.forget_measure not in VALID[self.corruption]:
            raise ValueError(f"corruption {self.corruption!r} works on forget_measure "
                             f"{' or '.join(VALID[self.corruption])}, not {self.forget_measure!r}")
        if self.corruption == "none" and self.retain == "none":
            raise ValueError("compose with corruption 'none' and retain 'none' has nothing to train")
        return self


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="compose",
        factory="mubench_compose.impl:Compose",
        summary="compose: a method built from the taxonomy's pieces (measure × corruption × retention × scope)",
        args=Args,
        taxonomy={"forget_measure": "argument", "corrupt": "argument", "retain": "argument", "scope": "argument"},
    )
