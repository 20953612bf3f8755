"""mubench plugin whisper: Whisper's encoder with a classification head. Registration only."""

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="whisper",
        factory="mubench_whisper.family:WhisperFamily",
        summary="Whisper (tiny/base) encoder on log-mel features with a classification head (WhisperForAudioClassification)",
        args=NoArgs,
        # "tiny" is every family's offline scale, so OpenAI's Whisper-Tiny checkpoint is "tiny-openai"
        scales={"tiny-openai": "openai/whisper-tiny", "base": "openai/whisper-base", "tiny": None},
        serves=("classification:speech",),
    )
