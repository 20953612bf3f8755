"""mubench plugin distilbert: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: DistilBERT base uncased, as in MU-Bench.
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "base": "distilbert/distilbert-base-uncased",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="distilbert",
        factory="mubench_distilbert.family:DistilBertFamily",
        summary="DistilBERT text classifier (DistilBertForSequenceClassification); scales base and tiny",
        scales=SCALES,
        serves=("classification:text",),
    )
