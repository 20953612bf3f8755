"""mubench plugin tinyimagenet: text-to-image generation on Tiny ImageNet (Le & Yang 2015) with the
prompt "a photo of a <class>"; score = a fixed classifier's accuracy on the generated images, plus a
CLIP score when a CLIP model is named.

Registration only (no torch); the task lives in :mod:`mubench_tinyimagenet.task`.
"""
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from mubench_harness import hookimpl
from mubench_harness.generative.settings import Sampling, fill_source_defaults
from mubench_harness.specs import HubIdOrPath, LocalPath, TaskSpec, TrainRecipe, local_download

#: Stable Diffusion is taken as given (no original is trained): this recipe sizes the budget's one epoch.
#: It is the model's own text-to-image fine-tuning, huggingface/diffusers examples/text_to_image (README
#: and train_text_to_image.py defaults): AdamW lr 1e-5, batch 1 × 4 accumulation steps = 4, weight decay 1e-2
_SRC = "diffusers examples/text_to_image (README, train_text_to_image.py defaults)"
RECIPES = {"*": TrainRecipe(epochs=1, lr=1e-5, batch_size=4, optimizer="adamw", weight_decay=1e-2, source=_SRC)}

#: sampling per source. mini: the tiny UNet, unguided, 10 DDIM steps: its judge accuracies match 20 steps'
#: (the mini original: test 0.717 at both, Df 0.60 at both, Dr sample 0.633 vs 0.617) in half the generation
#: time. hub: Stable Diffusion v1.4's own pipeline defaults
#: (diffusers StableDiffusionPipeline: 50 steps, classifier-free guidance 7.5)
GENERATION = {"mini": {"sampling": Sampling(steps=10)},
              "hub": {"sampling": Sampling(steps=50, guidance_scale=7.5, batch_size=8)}}


#: zh-plus/tiny-imagenet labels by WordNet id only; the words file is in the original archive
TinyImageNetWords = local_download("cs231n.stanford.edu/tiny-imagenet-200.zip: tiny-imagenet-200/words.txt")


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("zh-plus/tiny-imagenet", description="Tiny ImageNet on the hub (columns image, label)")
    path: LocalPath | None = Field(None, description="local mirror (save_to_disk folder or <split>.parquet files)")
    test_split: str = Field("valid", description="split used as test (Tiny ImageNet's labelled validation set)")
    words_path: TinyImageNetWords | None = Field(None, description="wnid<TAB>names file (Tiny ImageNet's words.txt) to turn "
                                   "WordNet ids into class words for the prompts")
    train_limit: int | None = Field(None, ge=1, description="seeded sample of the training images (None: all)")
    prompt_template: str = Field("a photo of a {label}", description="caption of every image of a class")
    max_caption_tokens: int = Field(16, ge=4, description="caption tokens (77 for Stable Diffusion's CLIP)")
    classifier_id: HubIdOrPath | None = Field(None, description="hub image classifier that judges generated images "
                                      "(its labels must follow the dataset's); None: a small CNN trained on train")
    clip_model: HubIdOrPath | None = Field(None, description="CLIP model (hub id or local folder with its tokenizer and "
                                   "image processor) for the CLIP score of generated images; None: no CLIP score")
    clip_weight: float = Field(100.0, gt=0, description="CLIP score = weight · max(cos, 0) (2.5 in Hessel et al.)")
    judge_epochs: int = Field(8, ge=1, description="epochs of the small CNN judge")
    noise_seed: int = Field(0, description="seed of the fixed evaluation noise (x_t, t, ε per sample)")
    n_per_class: int = Field(50, ge=5, description="mini: training images per class")
    n_test_per_class: int = Field(15, ge=2, description="mini: test images per class")
    image_size: int = Field(16, ge=8, description="mini: image side in pixels")
    data_seed: int = Field(0, description="mini: seed of the generated images")
    sampling: Sampling | None = Field(None, description="image generation used by the score (recorded); None: the "
                                      "source's (mini: 10 steps unguided; hub: 50 steps, guidance 7.5)")

    @model_validator(mode="after")
    def _per_source(self, info: ValidationInfo):
        return fill_source_defaults(self, info, GENERATION)


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="tinyimagenet",
        factory="mubench_tinyimagenet.task:TinyImageNetTask",
        summary="Tiny ImageNet text-to-image ('a photo of a <class>'); score = fixed classifier accuracy on "
                "generated images; Df = training images to forget",
        args=Args,
        kind="text_to_image",
        modality="image-text",
        sources=("hub", "mini"),
        has_ood=False,
        recipes=RECIPES,
    )
