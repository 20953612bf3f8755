"""mubench plugin mobilenetv2: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: the checkpoint MU-Bench names (appendix A.3: MobileNetV2); 1.0 width, 224 input
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "1.0-224": "google/mobilenet_v2_1.0_224",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="mobilenetv2",
        factory="mubench_mobilenetv2.family:MobileNetV2Family",
        summary="MobileNetV2 image classifier (MobileNetV2ForImageClassification); scales 1.0-224 and tiny",
        scales=SCALES,
        serves=("classification:image",),
    )
