"""mubench plugin swin: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: Swin-T and Swin-B (patch 4, window 7, 224 input) as in MU-Bench; the scale names follow the paper
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "tiny": None,
    "T": "microsoft/swin-tiny-patch4-window7-224",
    "B": "microsoft/swin-base-patch4-window7-224",
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="swin",
        factory="mubench_swin.family:SwinFamily",
        summary="Swin Transformer classifier (SwinForImageClassification); scales T, B and tiny",
        scales=SCALES,
        serves=("classification:image",),
    )
