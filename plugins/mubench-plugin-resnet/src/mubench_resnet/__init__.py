"""mubench plugin resnet: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: the checkpoints MU-Bench fine-tunes (appendix A.3); ``tiny`` is built offline from a small config
SCALES = {
    "18": "microsoft/resnet-18",
    "34": "microsoft/resnet-34",
    "50": "microsoft/resnet-50",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="resnet",
        factory="mubench_resnet.family:ResNetFamily",
        summary="ResNet image classifier (ResNetForImageClassification); scales 18, 34, 50 and tiny",
        scales=SCALES,
        serves=("classification:image",),
    )
