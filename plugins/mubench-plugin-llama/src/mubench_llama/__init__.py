"""mubench plugin llama: registration only. Import nothing heavy here (no torch): listing stays fast.

Yield specs from the hooks you need (``mubench_tasks``, ``mubench_models``, ``mubench_unlearners``,
``mubench_metrics``); the ``factory`` target is imported only when the component is used.
"""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lr: float = Field(1e-3, gt=0, description="learning rate")
    epochs: int = Field(1, ge=1, description="passes over the method's data")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="llama",
        factory="mubench_llama.impl:Method",
        summary="one line saying what the method does",
        args=Args,
        taxonomy={"forget_measure": "loss", "corrupt": "gradient", "retain": "-", "scope": "dense"},
    )
