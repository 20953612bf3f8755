"""Test plugin: registration only (no torch here, like every plugin)."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.builtins.toy import BlobsArgs
from mubench_harness.specs import LocalPath, MetricSpec, ModelSpec, TaskSpec, UnlearnerSpec

TAXONOMY = {"forget_measure": "loss", "corrupt": "gradient", "retain": "-", "scope": "dense"}


class AscentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lr: float = Field(1e-3, gt=0)
    epochs: int = Field(1, ge=1)


class SlowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step_seconds: float = Field(0.05, ge=0)
    epochs: int = Field(5, ge=1)


class FileBlobsArgs(BlobsArgs):
    path: LocalPath = Field(description="JSON file {split: [{features: [...], label: k}, ...]} (test)")


@hookimpl
def mubench_tasks():
    yield TaskSpec(name="blobs_file", factory="mubench_testkit.impl:FileBlobs", summary="toy blobs read from a "
                   "local JSON file (test)", args=FileBlobsArgs, kind="classification", modality="tabular",
                   sources=("hub",))
    yield TaskSpec(name="blobs_column", factory="mubench_testkit.impl:ColumnBlobs", summary="toy blobs whose "
                   "features go through column_buffer (spilled to disk when large) (test)", args=BlobsArgs,
                   kind="classification", modality="tabular", sources=("mini",), has_ood=True)


@hookimpl
def mubench_models():
    yield ModelSpec(name="given_mlp", factory="mubench_harness.builtins.toy_impl:MLPFamily", summary="the toy MLP "
                    "whose tiny scale is taken as given (test)", scales={"tiny": None, "small": None},
                    serves=("classification:tabular",), given=("tiny",))


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(name="ascent", factory="mubench_testkit.impl:Ascent", summary="gradient ascent on Df (test)",
                        args=AscentArgs, taxonomy=TAXONOMY)
    yield UnlearnerSpec(name="exact", factory="mubench_testkit.impl:Exact", summary="retrain on Dr (test)",
                        args=AscentArgs, taxonomy=TAXONOMY, is_retrain=True)
    yield UnlearnerSpec(name="explode", factory="mubench_testkit.impl:Explode", summary="NaN loss (test)",
                        taxonomy=TAXONOMY)
    yield UnlearnerSpec(name="slow", factory="mubench_testkit.impl:Slow", summary="sleeps every step (test)",
                        args=SlowArgs, taxonomy=TAXONOMY)
    yield UnlearnerSpec(name="dropout_ascent", factory="mubench_testkit.impl:DropoutAscent", summary="gradient "
                        "ascent through dropout: draws from torch's global RNG (test)", args=AscentArgs, taxonomy=TAXONOMY)
    yield UnlearnerSpec(name="genonly", factory="mubench_testkit.impl:Ascent", summary="applies to generation only (test)",
                        args=AscentArgs, taxonomy=TAXONOMY, applies_to=("seq2seq", "causal_lm"))


@hookimpl
def mubench_metrics():
    yield MetricSpec(name="boom", factory="mubench_testkit.impl:Boom", summary="always raises (test)")
