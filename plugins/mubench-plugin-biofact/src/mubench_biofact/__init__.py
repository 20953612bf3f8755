"""mubench plugin biofact: biographies of 183 people (FActScore, Min et al. 2023), scored by the share
of each person's atomic facts the model reproduces. Df = people to forget.

Registration only (no torch); the task lives in :mod:`mubench_biofact.task`.
"""
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from mubench_harness import hookimpl
from mubench_harness.generative.settings import Decoding, fill_source_defaults
from mubench_harness.specs import HubIdOrPath, TaskSpec, TrainRecipe, local_download

#: The LLMs are taken as given (no original is trained): this recipe sizes the budget's one epoch. It is
#: the models' own instruction tuning, tatsu-lab/stanford_alpaca README: AdamW lr 2e-5 (13B: 1e-5), batch
#: 128, 3 epochs, no weight decay
_SRC = "tatsu-lab/stanford_alpaca README (fine-tuning hyperparameters)"
RECIPES = {
    "*": TrainRecipe(epochs=3, lr=2e-5, batch_size=128, optimizer="adamw", source=_SRC),
    "llama:alpaca-13b": TrainRecipe(epochs=5, lr=1e-5, batch_size=128, optimizer="adamw", source=_SRC),
}

#: generation per source. mini: the short fictional biographies. hub: FActScore's biographies run to
#: several hundred tokens: up to 512 new tokens (the hub's target budget), greedy as FActScore scores them
GENERATION = {"mini": {"decoding": Decoding(max_new_tokens=24)},
              "hub": {"decoding": Decoding(max_new_tokens=512, batch_size=8)}}


#: FActScore's labelled people have no canonical hub copy: a local download
FActScoreFile = local_download("FActScore (github.com/shmsw25/FActScore, its download_data script): "
                               "data/labeled/ChatGPT.jsonl, the 183 people with human-labelled atomic facts")


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str | None = Field(None, description="dataset id with people and facts (columns name, facts[, biography]; "
                               "or FActScore's labelled JSONL: topic, annotations). No canonical hub copy exists: "
                               "name one, or a local file with path")
    path: FActScoreFile | None = Field(None, description="local JSON/JSONL/parquet file (or folder) of people and their facts")
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0, description="people held out as the test split (seeded)")
    split_seed: int = Field(0, description="seed of the train/test split of people")
    prompt_template: str = Field("Question: Tell me a bio of {name}.", description="the prompt; {name} is the person")
    fact_threshold: float = Field(0.8, gt=0, le=1, description="a fact counts as reproduced when this share of its "
                                  "content words (not stopwords, not the person's name) appears in the generation")
    judge: HubIdOrPath | None = Field(None, description="an NLI model (hub id or local folder with an 'entailment' "
                                      "label, e.g. microsoft/deberta-large-mnli) that judges each fact against the "
                                      "generation, as FActScore judges with a model; None: the lexical matcher "
                                      "(offline). Recorded with the run: it says which judge produced the score")
    judge_threshold: float = Field(0.5, gt=0, lt=1, description="entailment probability from which a fact is supported")
    n_people: int = Field(183, ge=10, description="mini: fictional people generated")
    data_seed: int = Field(0, description="mini: seed of the fictional people")
    max_prompt_tokens: int | None = Field(None, ge=4, description="prompt tokens kept (None: 12 mini, 64 hub)")
    max_target_tokens: int | None = Field(None, ge=4, description="biography tokens kept (None: 24 mini, 512 hub)")
    max_reference_bytes: int = Field(4096, ge=64, description="bytes of the name and facts kept for scoring")
    decoding: Decoding | None = Field(None, description="generation used by the score (recorded with results); "
                                      "None: the source's (mini: 24 new tokens; hub: 512)")

    @model_validator(mode="after")
    def _per_source(self, info: ValidationInfo):
        return fill_source_defaults(self, info, GENERATION)


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="biofact",
        factory="mubench_biofact.task:BioFactTask",
        summary="BioFact: write a person's biography from a name prompt (causal LM); score = share of the "
                "person's atomic facts reproduced",
        args=Args,
        kind="causal_lm",
        modality="text",
        sources=("hub", "mini"),
        has_ood=False,
        recipes=RECIPES,
    )
