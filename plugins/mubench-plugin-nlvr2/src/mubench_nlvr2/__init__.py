"""mubench plugin nlvr2: NLVR2 visual reasoning (two images + a statement -> true/false).

Registration only; the implementation (``mubench_nlvr2.task``) is imported when the task is used.
"""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import LocalPath, TaskSpec, TrainRecipe, UnlearningRecipe, local_download

#: CLU-UML/MU-Bench experiment/nlvr2/gen_config.py: lr 1e-5, batch 32, 20 epochs (the HF Trainer, AdamW).
#: The authors train nothing (ViLT-NLVR2 is taken as given): this recipe sizes a given original's budget
#: epoch and trains the original of any other family
_SRC = "CLU-UML/MU-Bench experiment/nlvr2/gen_config.py"
RECIPES = {"*": TrainRecipe(epochs=20, lr=1e-5, batch_size=32, optimizer="adamw", source=_SRC)}
#: unlearning (same file): lr 1e-5 over 6 epochs for every method
UNLEARNING = UnlearningRecipe(lr=1e-5, epochs=6, batch_size=32, source=_SRC)


#: NLVR2's images are not on the hub beside jialicheng/nlvr2's annotations: a local download
NLVR2Images = local_download("NLVR2's images (lil.nlp.cornell.edu/nlvr, github.com/lil-lab/nlvr: by request), laid "
                             "out as LAVIS's nlvr2 image folder that jialicheng/nlvr2's paths are relative to")


class NLVR2Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("jialicheng/nlvr2", description="hub dataset id of NLVR2 (MU-Bench's release); "
                        "any NLVR2 copy whose columns are mapped below")
    path: LocalPath | None = Field(None, description="local mirror: a DatasetDict.save_to_disk folder, or a copy of the "
                                   "hub repository's files (read instead of the hub)")
    hub_files: dict[str, str] | None = Field(
        {"train": "train.json", "dev": "dev.json", "test": "test.json", "test2": "test2.json"},
        description="split -> file of the repository (the MU-Bench authors' mapping: the hub's own file-name rules "
                    "would fold test2.json into test); None: the hub's rules")
    image_root: NLVR2Images | None = Field(None, description="folder that relative image paths in the image columns are "
                                         "resolved against (jialicheng/nlvr2 holds paths into LAVIS's nlvr2 image folder)")
    left_column: str = Field("left_image", description="column of the left image (an image or a path)")
    right_column: str = Field("right_image", description="column of the right image (an image or a path)")
    sentence_column: str = "sentence"
    label_column: str = Field("label", description="truth value: bool, 0/1 or the strings 'True'/'False'")
    train_split: str = "train"
    test_split: str = Field("test", description="NLVR2's public test set (test-P / test1)")
    ood_split: str | None = Field("test2", description="NLVR2's second, unreleased-then-extra test set (test-U); None: no OOD")
    image_size: int | None = Field(None, ge=8, description="side images are resized to; None: the model config's image_size")
    max_length: int | None = Field(None, ge=8, le=40, description="token budget of a statement; None: 40 (ViLT's "
                                   "text positions) for hub data, 12 for the short mini statements")
    # mini source
    n_train: int = Field(600, ge=20, description="mini: training pairs")
    n_test: int = Field(400, ge=20, description="mini: test (and OOD) pairs")
    label_noise: float = Field(0.05, ge=0.0, lt=0.5, description="mini: share of training labels flipped, so a "
                               "model can only fit the whole training set by memorising")
    data_seed: int = 0


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="nlvr2",
        factory="mubench_nlvr2.task:NLVR2Task",
        summary="NLVR2: is a statement true of a pair of images? (2 classes; OOD: the second test set)",
        args=NLVR2Args,
        kind="classification",
        modality="image-image-text",
        sources=("hub", "mini"),
        has_ood=True,
        recipes=RECIPES,
        unlearning=UNLEARNING,
    )
