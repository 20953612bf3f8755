"""mubench plugin neggrad: gradient ascent on the task loss over Df. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' recipe (Jia et al. 2023, gradient ascent): SGD lr 1e-4, momentum 0.9, 5 epochs."""

    lr: float = Field(1e-4, gt=0, description="learning rate")
    epochs: int = Field(5, ge=1, description="passes over Df")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()

    kind_recipes = {"text_to_image": (
        "SalUn's Stable Diffusion gradient-ascent baseline: Adam lr 1e-5, 10 epochs, batch 8 "
        "(without its alpha-weighted Dr term, which NegGrad by definition lacks)",
        {"optimizer": {"name": "adam"}, "lr": 1e-5, "epochs": 10, "batch_size": 8})}


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="neggrad",
        factory="mubench_neggrad.impl:NegGrad",
        summary="NegGrad: gradient ascent on the task loss over Df only",
        args=Args,
        taxonomy={"forget_measure": "loss", "corrupt": "gradient", "retain": "-", "scope": "dense"},
    )
