"""mubench plugin cifar100: registration only. Imports nothing heavy (no torch): listing stays fast."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import LocalPath, MethodAdjustment, TaskSpec, TrainRecipe, UnlearningRecipe, local_download

#: CLU-UML/MU-Bench experiment/cifar100/gen_config.py: the HF Trainer (AdamW), lr 1e-5, weight decay 1e-4,
#: batch 128, 300 epochs to train (ViT 100; ViT-large at half the batch), best epoch by accuracy
_SRC = "CLU-UML/MU-Bench experiment/cifar100/gen_config.py"
RECIPES = {
    "*": TrainRecipe(epochs=300, lr=1e-5, batch_size=128, optimizer="adamw", weight_decay=1e-4, source=_SRC),
    "vit": TrainRecipe(epochs=100, lr=1e-5, batch_size=128, optimizer="adamw", weight_decay=1e-4, source=_SRC),
    "vit:large": TrainRecipe(epochs=100, lr=1e-5, batch_size=64, optimizer="adamw", weight_decay=1e-4, source=_SRC),
}
#: unlearning (same file): the template's lr 1e-5 over 10 epochs; NegGrad × 5, RandLabel/Bad-T/SalUn × 10
UNLEARNING = UnlearningRecipe(lr=1e-5, epochs=10, batch_size=128, weight_decay=1e-4, source=_SRC, methods={
    "neggrad": MethodAdjustment(lr_factor=5), "randlabel": MethodAdjustment(lr_factor=10),
    "badt": MethodAdjustment(lr_factor=10), "salun": MethodAdjustment(lr_factor=10)})


#: CIFAR-100-C, the paper's OOD set for CIFAR-100 (Hendrycks & Dietterich 2019): its authors' release. The
#: hub copies are loading scripts (randall-lab/cifar100-c), which datasets >= 4 does not run
CIFAR100C = local_download("zenodo.org/records/3555552 (Hendrycks & Dietterich's CIFAR-100-C.tar, extracted: "
                           "labels.npy and one <corruption>.npy per corruption)")


class Cifar100Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("uoft-cs/cifar100", description="hub dataset id (columns img, fine_label, coarse_label)")
    path: LocalPath | None = Field(None, description="local mirror: a DatasetDict.save_to_disk folder, or a folder of data files")
    ood_hub_id: str | None = Field(
        None, description="CIFAR-100-C on the hub (e.g. randall-lab/cifar100-c: image, label, corruption_name, "
        "corruption_level). None: corrupt the test set with this plugin's own deterministic corruptions")
    ood_path: CIFAR100C | None = Field(None, description="CIFAR-100-C on disk: the release's folder (labels.npy, "
                                       "<corruption>.npy), or a mirror in the forms path takes")
    ood_corruptions: list[str] | None = Field(None, description="keep only these corruption_name values of CIFAR-100-C")
    ood_severity: int | None = Field(None, ge=1, le=5, description="keep only this corruption_level of CIFAR-100-C")
    mini_tints: int = Field(4, ge=1, le=10, description="mini source: colour tints per digit (classes = 10 x tints)")
    mini_seed: int = Field(0, description="mini source: seed of the rendering (shifts, colours, noise, split)")


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="cifar100",
        factory="mubench_cifar100.task:Cifar100Task",
        summary="CIFAR-100 image classification (100 fine classes); OOD: CIFAR-100-C corruptions",
        args=Cifar100Args,
        kind="classification",
        modality="image",
        sources=("hub", "mini"),
        has_ood=True,
        recipes=RECIPES,
        unlearning=UNLEARNING,
    )
