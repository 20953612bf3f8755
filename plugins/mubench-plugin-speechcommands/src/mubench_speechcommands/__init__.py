"""mubench plugin speechcommands: keyword spotting on Speech Commands v0.02. Registration only."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import LocalPath, TaskSpec, TrainRecipe

#: The MU-Bench authors publish no Speech Commands recipe; this is the models' own keyword-spotting
#: fine-tuning recipe: transformers examples/pytorch/audio-classification (README, wav2vec2-base on
#: SUPERB ks): AdamW lr 3e-5, 5 epochs, batch 32 × 4 accumulation steps = 128 (its 10 % warm-up is not modelled)
_SRC = "transformers examples/pytorch/audio-classification README (SUPERB ks)"
RECIPES = {"*": TrainRecipe(epochs=5, lr=3e-5, batch_size=128, optimizer="adamw", source=_SRC)}


class SpeechCommandsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("google/speech_commands", description="hub dataset id")
    config: str = Field("v0.02", description="dataset configuration (v0.02: 35 words + _silence_, 36 classes)")
    path: LocalPath | None = Field(None, description="local mirror: a DatasetDict.save_to_disk folder (read instead of the hub)")
    train_split: str = "train"
    test_split: str = "test"
    # mini source
    keywords: list[str] = Field(["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"],
                                min_length=2, description="mini: spoken keywords (each must be a v0.02 label)")
    speakers: int = Field(16, ge=2, le=64, description="mini: synthetic speakers (espeak-ng voice x variant x speed x pitch)")
    clips_per_speaker: int = Field(6, ge=1, description="mini: augmented clips (shift, gain, tempo, noise) per speaker and keyword")
    silence: bool = Field(True, description="mini: add _silence_ clips (background noise only)")
    test_fraction: float = Field(0.3, gt=0, lt=1, description="mini: share of speakers (voices) held out as test: "
                                 "no voice is in both train and test")
    data_seed: int = 0


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="speechcommands",
        factory="mubench_speechcommands.task:SpeechCommandsTask",
        summary="Speech Commands v0.02 keyword spotting, 1 s 16 kHz clips (36 classes); mini: eSpeak NG keywords "
                "(libespeak-ng from the espeakng-loader wheel), test voices disjoint from train",
        args=SpeechCommandsArgs,
        kind="classification",
        modality="speech",
        sources=("hub", "mini"),
        has_ood=False,
        recipes=RECIPES,
        requires=("espeakng-loader", "soundfile"),
    )
