"""mubench plugin videomae: VideoMAE with a classification head. Registration only."""
from pydantic import BaseModel, ConfigDict

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec


class VideoMAEArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="videomae",
        factory="mubench_videomae.family:VideoMAEFamily",
        summary="VideoMAE (base/large) self-supervised video transformer with a classification head",
        args=VideoMAEArgs,
        scales={"base": "MCG-NJU/videomae-base", "large": "MCG-NJU/videomae-large", "tiny": None},
        serves=("classification:video",),
    )
