"""mubench plugin badt: distil from an incompetent teacher on Df and the original on Dr. No torch here."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, adam


class Args(MethodArgs):
    """Authors' recipe (Chundawat et al. 2023): Adam lr 1e-4, 1 epoch, batch 256, 30 % of Dr, τ = 1."""

    lr: float = Field(1e-4, gt=0, description="learning rate")
    epochs: int = Field(1, ge=1, description="passes over Df plus the Dr subset")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = adam()
    retain_fraction: float = Field(0.3, gt=0, le=1, description="share of Dr (disjoint from Df) mixed in")
    tau: float = Field(1.0, gt=0, description="distillation temperature")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="badt",
        factory="mubench_badt.impl:BadTeacher",
        summary="Bad-T: KL to a freshly initialised teacher on Df and to the original on a 30 % subset of Dr",
        args=Args,
        taxonomy={"forget_measure": "logits", "corrupt": "model", "retain": "logits", "scope": "dense"},
    )
