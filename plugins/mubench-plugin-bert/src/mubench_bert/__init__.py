"""mubench plugin bert: registration only. Imports nothing heavy (no torch): listing stays fast."""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec

#: BERT-B/L as in MU-Bench, and the biomedical BERT checkpoints it uses for DDI-2013 (BioBERT v1.1,
#: PubMedBERT abstract / abstract+fulltext, now published as BiomedBERT).
#: ``tiny`` is built offline from a small config of the same architecture.
SCALES = {
    "base": "google-bert/bert-base-uncased",
    "large": "google-bert/bert-large-uncased",
    "biobert": "dmis-lab/biobert-v1.1",
    "pubmedbert-abstract": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
    "pubmedbert-fulltext": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext",
    "tiny": None,
}


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="bert",
        factory="mubench_bert.family:BertFamily",
        summary="BERT text classifier (BertForSequenceClassification); scales base, large, biobert, pubmedbert-abstract, pubmedbert-fulltext and tiny",
        scales=SCALES,
        serves=("classification:text",),
    )
