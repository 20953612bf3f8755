"""mubench plugin t5: T5 v1.1 encoder-decoders for seq2seq tasks (SAMSum in MU-Bench).

Registration only (no torch); the family lives in :mod:`mubench_t5.family`.
"""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="t5",
        factory="mubench_t5.family:T5Family",
        summary="T5 v1.1 (Lester et al. 2021 checkpoints) small/base/large/xl; tiny: a 2+2-layer T5 built offline",
        args=NoArgs,
        scales={
            "small": "google/t5-v1_1-small",
            "base": "google/t5-v1_1-base",
            "large": "google/t5-v1_1-large",
            "xl": "google/t5-v1_1-xl",
            "tiny": None,
        },
        serves=("seq2seq",),
    )
