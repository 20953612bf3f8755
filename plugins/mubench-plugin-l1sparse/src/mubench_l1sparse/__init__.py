"""mubench plugin l1sparse: fine-tune on Dr with a decaying L1 penalty. Registration only (no torch)."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, sgd


class Args(MethodArgs):
    """Authors' recipe (Jia et al., NeurIPS 2023): α = 1e-4, SGD lr 0.01, momentum 0.9, wd 5e-4, 10 epochs."""

    lr: float = Field(0.01, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Dr")
    batch_size: int = Field(256, ge=1)
    optimizer: OptimizerArgs = sgd()
    alpha: float = Field(1e-4, ge=0, description="L1 weight α; epoch t (0-based) of E uses α·(1 − t/E)")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="l1sparse",
        factory="mubench_l1sparse.impl:L1Sparse",
        summary="l1-sparse: task loss on Dr + α_t·‖θ‖₁ with α_t = α(1 − t/E) decaying per epoch",
        args=Args,
        taxonomy={"forget_measure": "-", "corrupt": "-", "retain": "loss", "scope": "dense (sparsity prior)"},
    )
