"""mubench plugin scrub: interleaved max (Df) / min (Dr) distillation. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' large-scale recipe (Kurmanji et al. 2023): SGD lr 5e-4, momentum 0.9, wd 5e-4, τ = 4,
    max_steps = 2, 3 epochs, γ = 0.99, α = 0.001, batches 512 (Df) / 256 (Dr)."""

    lr: float = Field(5e-4, gt=0, description="learning rate")
    epochs: int = Field(3, ge=1, description="epochs; each has a max pass (while epoch < max_steps) and a min pass")
    batch_size: int = Field(256, ge=1, description="batch size of the min pass on Dr")
    forget_batch_size: int = Field(512, ge=1, description="batch size of the max pass on Df")
    optimizer: OptimizerArgs = sgd()
    tau: float = Field(4.0, gt=0, description="distillation temperature (KL × τ²)")
    max_steps: int = Field(2, ge=0, description="number of epochs (from the first) that run the max pass")
    gamma: float = Field(0.99, ge=0, description="weight of the task loss on Dr")
    alpha: float = Field(0.001, ge=0, description="weight of the KL on Dr")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="scrub",
        factory="mubench_scrub.impl:Scrub",
        summary="SCRUB: per epoch, maximise KL to the original on Df, then minimise γ·CE + α·KL on Dr",
        args=Args,
        taxonomy={"forget_measure": "logits", "corrupt": "gradient", "retain": "loss+logits", "scope": "dense"},
    )
