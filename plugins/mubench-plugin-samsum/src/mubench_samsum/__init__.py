"""mubench plugin samsum: dialogue summarisation (SAMSum, Gliwa et al. 2019), scored with ROUGE-L.

Registration only: no torch here (listing stays fast); the task lives in :mod:`mubench_samsum.task`.
"""
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from mubench_harness import hookimpl
from mubench_harness.generative.settings import Decoding, fill_source_defaults
from mubench_harness.specs import LocalPath, TaskSpec, TrainRecipe

#: The MU-Bench authors publish no SAMSum recipe; this is T5's summarisation fine-tuning in the
#: transformers task guide (docs/source/en/tasks/summarization.md): AdamW lr 2e-5, batch 16, weight decay
#: 0.01, 4 epochs
_SRC = "transformers docs, tasks/summarization (T5)"
RECIPES = {"*": TrainRecipe(epochs=4, lr=2e-5, batch_size=16, optimizer="adamw", weight_decay=0.01, source=_SRC)}

#: generation per source. mini: the short generated summaries. hub: SAMSum's summaries (up to ~70 T5
#: tokens) within the 128 target tokens of transformers' summarization example (val_max_target_length),
#: beam search with T5's own summarization settings (its config's task_specific_params: 4 beams)
GENERATION = {"mini": {"decoding": Decoding(max_new_tokens=28)},
              "hub": {"decoding": Decoding(max_new_tokens=128, num_beams=4, batch_size=16)}}


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("Samsung/samsum", description="SAMSum on the hub (the MU-Bench authors' `samsum`; columns id, "
                        "dialogue, summary; a loading-script dataset, read from its parquet export)")
    path: LocalPath | None = Field(None, description="local mirror: a save_to_disk folder or <split>.parquet/jsonl/csv files")
    ood_hub_id: str | None = Field("EdinburghNLP/xsum", description="shifted test set (XSum: document, summary); None: no OOD")
    ood_path: LocalPath | None = Field(None, description="local mirror of the OOD set")
    ood_limit: int = Field(1000, ge=1, description="seeded sample of the OOD test split")
    n_train: int = Field(300, ge=20, description="mini: generated training dialogues")
    n_test: int = Field(100, ge=10, description="mini: generated test dialogues")
    data_seed: int = Field(0, description="mini: seed of the generated dialogues")
    max_source_tokens: int | None = Field(None, ge=8, description="dialogue tokens kept (None: 48 mini, 512 hub)")
    max_target_tokens: int | None = Field(None, ge=4, description="summary tokens kept (None: 28 mini, 128 hub)")
    max_reference_bytes: int = Field(1024, ge=64, description="bytes of the reference summary kept for ROUGE")
    decoding: Decoding | None = Field(None, description="generation used by the score (recorded with results); "
                                      "None: the source's (mini: 28 new tokens greedy; hub: 128, 4 beams)")

    @model_validator(mode="after")
    def _per_source(self, info: ValidationInfo):
        return fill_source_defaults(self, info, GENERATION)


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="samsum",
        factory="mubench_samsum.task:SAMSumTask",
        summary="SAMSum dialogue summarisation (seq2seq), score = ROUGE-L F1 of the generated summary; OOD = XSum",
        args=Args,
        kind="seq2seq",
        modality="text",
        sources=("hub", "mini"),
        has_ood=True,
        recipes=RECIPES,
        requires=("rouge-score",),
    )
