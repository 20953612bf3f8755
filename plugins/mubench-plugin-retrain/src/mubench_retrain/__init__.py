"""mubench plugin retrain: exact unlearning, the task's recipe on Dr from the starting weights. No torch."""
from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs


class Args(MethodArgs):
    """Retraining uses the task's own training recipe; an argument left at ``None`` keeps the recipe's."""

    lr: float | None = Field(None, gt=0, description="learning rate (None: the task recipe's)")
    epochs: int | None = Field(None, ge=1, description="epochs (None: the task recipe's)")
    batch_size: int | None = Field(None, ge=1, description="batch size (None: the task recipe's)")
    optimizer: OptimizerArgs | None = Field(None, description="optimiser (None: the task recipe's)")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="retrain",
        factory="mubench_retrain.impl:Retrain",
        summary="Retrain (exact unlearning): the original's recipe on Dr only, from its starting weights",
        args=Args,
        is_retrain=True,
        taxonomy={"forget_measure": "-", "corrupt": "-", "retain": "loss (from scratch)", "scope": "dense"},
    )
