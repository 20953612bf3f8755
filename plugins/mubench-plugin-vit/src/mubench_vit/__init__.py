"""mubench plugin vit: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: ImageNet-21k pretrained ViT-B/16 and ViT-L/16 (no ImageNet-1k head), as fine-tuned in MU-Bench
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "base": "google/vit-base-patch16-224-in21k",
    "large": "google/vit-large-patch16-224-in21k",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="vit",
        factory="mubench_vit.family:ViTFamily",
        summary="Vision Transformer classifier (ViTForImageClassification); scales base, large and tiny",
        scales=SCALES,
        serves=("classification:image",),
    )
