"""mubench plugin randlabel: train on Df with random wrong labels mixed with Dr. Registration only."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, RelabelArgs, sgd


class Args(MethodArgs, RelabelArgs):
    """Authors' recipe (as in SalUn's RL baseline): SGD lr 0.01, momentum 0.9, wd 5e-4, 10 epochs."""

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Df ∪ Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()
    retain_weight: float = Field(1.0, ge=0, description="text-to-image: weight α of the Dr loss beside the "
                                                        "redirected Df loss (classification: one mean over mixed rows)")

    # SalUn's Stable Diffusion random-label baseline redirects the Df prompt's predicted noise to a
    # pseudo prompt's (SalUn's loss without the mask), plus alpha x the Dr loss
    kind_recipes = {"text_to_image": (
        "SalUn's Stable Diffusion random-label baseline (SD/train-scripts/random_label.py): Adam lr 1e-5, "
        "5 epochs, batch 8, alpha 0.1",
        {"optimizer": {"name": "adam"}, "lr": 1e-5, "epochs": 5, "batch_size": 8, "retain_weight": 0.1})}


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="randlabel",
        factory="mubench_randlabel.impl:RandLabel",
        summary="RandLabel: Df with uniformly random wrong targets, mixed with Dr in each shuffled epoch",
        args=Args,
        taxonomy={"forget_measure": "loss", "corrupt": "data", "retain": "loss", "scope": "dense"},
    )
