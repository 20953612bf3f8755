"""Built-in toy task and model: Gaussian blobs and an MLP, seconds on CPU. The testing kit's workhorse."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..hookspecs import hookimpl
from ..specs import ModelSpec, NoArgs, TaskSpec


class BlobsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    num_classes: int = Field(4, ge=2, le=100)
    dim: int = Field(8, ge=2)
    n_train: int = Field(600, ge=20)
    n_test: int = Field(600, ge=20)
    #: spread of each blob relative to the distance between blob centres: higher overlaps more, so a
    #: model can only fit the training set by memorising it (what makes membership inference work)
    spread: float = Field(1.2, gt=0)
    data_seed: int = 0



@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="toy_blobs",
        factory="mubench_harness.builtins.toy_impl:BlobsTask",
        summary="Gaussian blobs classification (built-in toy task for tests and demos)",
        args=BlobsArgs,
        kind="classification",
        modality="tabular",
        sources=("mini",),
        has_ood=True,
    )


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="toy_mlp",
        factory="mubench_harness.builtins.toy_impl:MLPFamily",
        summary="Two-layer MLP (built-in toy model); scales tiny (64 units) and small (256 units)",
        args=NoArgs,
        scales={"tiny": None, "small": None},
        serves=("classification:tabular",),
    )
