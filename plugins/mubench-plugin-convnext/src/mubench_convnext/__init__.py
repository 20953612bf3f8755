"""mubench plugin convnext: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: MU-Bench names ConvNeXt without a size: T (convnext-tiny-224, 28M parameters, the size comparable to
#: ResNet-50 and Swin-T in its tables) is the documented default real scale; B is offered for scaling runs
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "tiny": None,
    "T": "facebook/convnext-tiny-224",
    "B": "facebook/convnext-base-224",
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="convnext",
        factory="mubench_convnext.family:ConvNextFamily",
        summary="ConvNeXt image classifier (ConvNextForImageClassification); scales T (default real), B and tiny",
        scales=SCALES,
        serves=("classification:image",),
    )
