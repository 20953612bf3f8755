"""mubench plugin ucf101: UCF101 action classification from short video clips. Registration only."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import TaskSpec, TrainRecipe, local_download

#: The MU-Bench authors publish no UCF101 recipe; this is VideoMAE's fine-tuning on UCF101 in the
#: transformers task guide (docs/source/en/tasks/video_classification.md): AdamW lr 5e-5, batch 8,
#: 4 epochs (its 10 % warm-up is not modelled)
_SRC = "transformers docs, tasks/video_classification (VideoMAE on UCF101)"
RECIPES = {"*": TrainRecipe(epochs=4, lr=5e-5, batch_size=8, optimizer="adamw", source=_SRC)}


#: the videos are on no hub in the official split: local downloads
UCF101Videos = local_download("crcv.ucf.edu/data/UCF101 (UCF101.rar and the official train/test split 1), "
                              "extracted as <split>/<ClassName>/*.avi")
UCF101DS = local_download("UCF101-DS of Schiappa et al. 2023, 'A Large-scale Robustness Analysis of Video Action "
                          "Recognition Models' (CVPR), from its authors' release: <ClassName>/*.avi")


class UCF101Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str | None = Field(None, description="hub dataset id of a UCF101 copy with a video column (bytes or "
                               "paths) and a class label; None: read the local folder in 'path'")
    path: UCF101Videos | None = Field(None, description="local UCF101: <path>/<split>/<ClassName>/*.avi (split folders "
                             "'train' and 'test'), the layout of the extracted archive with the official split 1")
    num_classes: int = Field(101, ge=2, description="classes of the hub/folder data (UCF101: 101)")
    video_column: str = "video"
    label_column: str = "label"
    ood_path: UCF101DS | None = Field(None, description="UCF101-DS (distribution-shifted test videos): "
                                 "<ood_path>/<ClassName>/*.avi with UCF101's class names")
    num_frames: int | None = Field(None, ge=2, description="frames sampled uniformly per clip; None: the model's num_frames")
    image_size: int | None = Field(None, ge=8, description="frame side; None: the model config's image_size")
    # mini source
    shapes: list[str] = Field(["circle", "square", "triangle"], min_length=1, description="mini: shapes (class = shape x motion)")
    motions: list[str] = Field(["left", "right", "up", "down"], min_length=1, description="mini: motion directions")
    clips_per_class: int = Field(60, ge=4, description="mini: clips per class (train + test)")
    test_fraction: float = Field(0.35, gt=0, lt=1)
    frames: int = Field(8, ge=2, description="mini: frames per clip")
    size: int = Field(32, ge=16, description="mini: frame side in pixels")
    data_seed: int = 0


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="ucf101",
        factory="mubench_ucf101.task:UCF101Task",
        summary="UCF101 action recognition (101 classes; OOD: UCF101-DS); mini: clips of moving shapes",
        args=UCF101Args,
        kind="classification",
        modality="video",
        sources=("hub", "mini"),
        has_ood=True,
        recipes=RECIPES,
        requires=("av",),
    )
