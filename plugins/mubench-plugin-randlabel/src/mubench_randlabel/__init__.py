"""mubench plugin randlabel: train on Df with random wrong labels mixed with Dr. Registration only."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' recipe (as in SalUn's RL baseline): SGD lr 0.01, momentum 0.9, wd 5e-4, 10 epochs."""

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Df ∪ Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()
    include_true: bool = Field(False, description="draw from ALL classes (SalUn's code) instead of the other classes")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="randlabel",
        factory="mubench_randlabel.impl:RandLabel",
        summary="RandLabel: Df with uniformly random wrong targets, mixed with Dr in each shuffled epoch",
        args=Args,
        taxonomy={"forget_measure": "loss", "corrupt": "data", "retain": "loss", "scope": "dense"},
    )
