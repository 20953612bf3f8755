"""mubench plugin whisper: Whisper's encoder with a classification head. Registration only."""
from pydantic import BaseModel, ConfigDict

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec


class WhisperArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="whisper",
        factory="mubench_whisper.family:WhisperFamily",
        summary="Whisper (tiny/base) encoder on log-mel features with a classification head (WhisperForAudioClassification)",
        args=WhisperArgs,
        # "tiny" is every family's offline scale, so OpenAI's Whisper-Tiny checkpoint is "tiny-openai"
        scales={"tiny-openai": "openai/whisper-tiny", "base": "openai/whisper-base", "tiny": None},
        serves=("classification:speech",),
    )
