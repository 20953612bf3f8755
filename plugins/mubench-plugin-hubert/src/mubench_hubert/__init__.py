"""mubench plugin hubert: HuBERT with a sequence-classification head (keyword spotting). Registration only."""

from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="hubert",
        factory="mubench_hubert.family:HubertFamily",
        summary="HuBERT (base/large/xlarge) on raw 16 kHz audio with a mean-pooled classification head",
        args=NoArgs,
        scales={"base": "facebook/hubert-base-ls960", "large": "facebook/hubert-large-ll60k",
                "xlarge": "facebook/hubert-xlarge-ll60k", "tiny": None},
        serves=("classification:speech",),
    )
