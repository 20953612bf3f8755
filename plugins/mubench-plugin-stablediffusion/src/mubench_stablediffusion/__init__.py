"""mubench plugin stablediffusion: Stable Diffusion for text-to-image tasks (Tiny ImageNet).

Registration only (no torch/diffusers); the family lives in :mod:`mubench_stablediffusion.family`.
"""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="stablediffusion",
        factory="mubench_stablediffusion.family:StableDiffusionFamily",
        summary="Stable Diffusion v1.4 (UNet trainable; CLIP text encoder and VAE frozen); tiny: a small "
                "pixel-space UNet2DConditionModel + CLIP text encoder built offline",
        args=NoArgs,
        scales={"v1-4": "CompVis/stable-diffusion-v1-4", "tiny": None},
        # the paper unlearns from the released v1.4 itself; the tiny pipeline is trained on the mini data
        given=("v1-4",),
        serves=("text_to_image",),
        requires=("diffusers",),
    )
