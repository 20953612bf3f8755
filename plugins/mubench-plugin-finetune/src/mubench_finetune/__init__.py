"""mubench plugin finetune: fine-tune on Dr only. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' recipe (Jia et al. 2023, FT): SGD lr 0.01, momentum 0.9, weight decay 5e-4, 10 epochs."""

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="finetune",
        factory="mubench_finetune.impl:FineTune",
        summary="Fine-tune: continue training on Dr only (catastrophic forgetting of Df)",
        args=Args,
        taxonomy={"forget_measure": "-", "corrupt": "-", "retain": "loss", "scope": "dense"},
    )
