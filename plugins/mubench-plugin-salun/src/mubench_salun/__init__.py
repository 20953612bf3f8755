"""mubench plugin salun: RandLabel restricted to a saliency mask. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, RelabelArgs, sgd


class Args(MethodArgs, RelabelArgs):
    """Authors' recipe (Fan et al., ICLR 2024): SGD lr 0.01, momentum 0.9, wd 5e-4, 10 epochs, mask 50 %;
    on text-to-image their Stable Diffusion recipe (SD/train-scripts/certain_label.py and its README):
    Adam lr 1e-5, 5 epochs, batch 8, α = 0.5 on the Dr loss."""

    kind_recipes = {"text_to_image": (
        "SalUn's Stable Diffusion recipe: Adam lr 1e-5, 5 epochs, batch 8, alpha 0.5",
        {"optimizer": {"name": "adam"}, "lr": 1e-5, "epochs": 5, "batch_size": 8, "retain_weight": 0.5})}

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Df ∪ Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()
    mask_fraction: float = Field(0.5, ge=0, le=1, description="share of trainable entries (highest saliency) that move")
    retain_weight: float = Field(1.0, ge=0, description="text-to-image: weight α of the Dr loss beside the "
                                                        "redirected Df loss (classification: one mean over mixed rows)")


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
