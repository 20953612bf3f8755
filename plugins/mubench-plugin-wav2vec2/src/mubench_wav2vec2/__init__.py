"""mubench plugin wav2vec2: wav2vec 2.0 with a sequence-classification head. Registration only."""

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="wav2vec2",
        factory="mubench_wav2vec2.family:Wav2Vec2Family",
        summary="wav2vec 2.0 (base/large) on raw 16 kHz audio with a mean-pooled classification head",
        args=NoArgs,
        scales={"base": "facebook/wav2vec2-base", "large": "facebook/wav2vec2-large", "tiny": None},
        serves=("classification:speech",),
    )
