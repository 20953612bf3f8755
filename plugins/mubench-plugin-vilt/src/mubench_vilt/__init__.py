"""mubench plugin vilt: ViLT for NLVR2 (two images and a statement). Registration only."""

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="vilt",
        factory="mubench_vilt.family:ViltFamily",
        summary="ViLT with the two-image NLVR2 head (ViltForImagesAndTextClassification); "
                "b32-nlvr2 is the fine-tuned checkpoint the paper takes as given",
        args=NoArgs,
        # the paper does not train ViLT: it takes the authors' NLVR2 fine-tuned checkpoint
        scales={"b32-nlvr2": "dandelin/vilt-b32-finetuned-nlvr2", "tiny": None},
        given=("b32-nlvr2",),
        given_members=("nlvr2",),  # fine-tuned on NLVR2's training set: Df and Dr are its members
        serves=("nlvr2",),
    )
