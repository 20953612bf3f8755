"""mubench plugin videomae: VideoMAE with a classification head. Registration only."""

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="videomae",
        factory="mubench_videomae.family:VideoMAEFamily",
        summary="VideoMAE (base/large) self-supervised video transformer with a classification head",
        args=NoArgs,
        scales={"base": "MCG-NJU/videomae-base", "large": "MCG-NJU/videomae-large", "tiny": None},
        serves=("classification:video",),
    )
