"""mubench plugin salun: RandLabel restricted to a saliency mask. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' recipe (Fan et al., ICLR 2024): SGD lr 0.01, momentum 0.9, wd 5e-4, 10 epochs, mask 50 %."""

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Df ∪ Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()
    mask_fraction: float = Field(0.5, ge=0, le=1, description="share of trainable entries (highest saliency) that move")
    include_true: bool = Field(False, description="RandLabel labels from ALL classes (SalUn's code)")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="salun",
        factory="mubench_salun.impl:SalUn",
        summary="SalUn: RandLabel on the top-saliency half of the weights; the rest stay exactly at θo",
        args=Args,
        # text_to_image: redirect the Df condition's predicted noise to another condition's
        # (mubench_harness.unlearning.recipes.redirect_phase) instead of RandLabel's labels
        taxonomy={"forget_measure": "loss", "corrupt": "data", "retain": "loss", "scope": "saliency mask"},
    )
