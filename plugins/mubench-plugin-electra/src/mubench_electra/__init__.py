"""mubench plugin electra: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: ELECTRA-B (the discriminator, the part one fine-tunes), as in MU-Bench.
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "base": "google/electra-base-discriminator",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="electra",
        factory="mubench_electra.family:ElectraFamily",
        summary="ELECTRA text classifier (ElectraForSequenceClassification); scales base and tiny",
        scales=SCALES,
        serves=("classification:text",),
    )
