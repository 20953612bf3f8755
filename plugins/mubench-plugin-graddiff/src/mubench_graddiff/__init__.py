"""mubench plugin graddiff: ascent on Df plus descent on paired Dr samples. Registration only."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, adam


class Args(MethodArgs):
    """Authors' recipe (TOFU, Maini et al. 2024): AdamW lr 1e-5, 5 epochs over Df, batch 32."""

    lr: float = Field(1e-5, gt=0, description="learning rate")
    epochs: int = Field(5, ge=1, description="passes over Df (each Df sample paired with a random Dr sample)")
    batch_size: int = Field(32, ge=1)
    optimizer: OptimizerArgs = adam("adamw", weight_decay=0.01)
    retain_weight: float = Field(1.0, ge=0, description="weight of the Dr loss")

    # SalUn's Stable Diffusion "gradient ascent" script IS ascent on Df + alpha x the Dr loss
    kind_recipes = {"text_to_image": (
        "SalUn's Stable Diffusion gradient-ascent script (ascent on Df + alpha Dr): Adam lr 1e-5, 10 epochs, "
        "batch 8, alpha 0.1",
        {"optimizer": {"name": "adam"}, "lr": 1e-5, "epochs": 10, "batch_size": 8, "retain_weight": 0.1})}


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="graddiff",
        factory="mubench_graddiff.impl:GradDiff",
        summary="GradDiff: −loss on Df + loss on a random Dr sample paired with each Df sample",
        args=Args,
        taxonomy={"forget_measure": "loss", "corrupt": "gradient", "retain": "loss", "scope": "dense"},
    )
