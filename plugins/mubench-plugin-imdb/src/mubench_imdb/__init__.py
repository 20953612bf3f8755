"""mubench plugin imdb: registration only. Imports nothing heavy (no torch): listing stays fast."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import LocalPath, MethodAdjustment, TaskSpec, TrainRecipe, UnlearningRecipe

#: CLU-UML/MU-Bench experiment/imdb/gen_config.py: the HF Trainer (AdamW), lr 5e-5, batch 32, 20 epochs
#: to train, max 128 tokens (set ``max_length: 128`` in the benchmark file), best epoch by accuracy
_SRC = "CLU-UML/MU-Bench experiment/imdb/gen_config.py"
RECIPES = {"*": TrainRecipe(epochs=20, lr=5e-5, batch_size=32, optimizer="adamw", source=_SRC)}
#: unlearning (same file): lr 5e-5 over 6 epochs; NegGrad over 12 epochs at lr ÷ 5 where Df is 2 %, ÷ 10
#: at every other ratio (``if dr == 2.0: /= 5 else: /= 10``); Bad-T lr × 2 over 10 epochs
UNLEARNING = UnlearningRecipe(lr=5e-5, epochs=6, batch_size=32, source=_SRC, methods={
    "neggrad": MethodAdjustment(lr_factor=0.1, epochs=12, lr_factor_at={2: 0.2}),
    "badt": MethodAdjustment(lr_factor=2, epochs=10)})


class ImdbArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field("stanfordnlp/imdb", description="hub dataset id (columns text, label; splits train/test)")
    path: LocalPath | None = Field(None, description="local mirror: a DatasetDict.save_to_disk folder, or a folder of data files")
    ood_hub_id: str | None = Field("cornell-movie-review-data/rotten_tomatoes",
                                   description="the shifted test set (Rotten Tomatoes); None: no OOD split")
    ood_path: LocalPath | None = Field(None, description="local mirror of the OOD dataset")
    ood_split: str = Field("test", description="which split of the OOD dataset is the shifted test set; 'all': "
                           "every split pooled (the MU-Bench authors' Rotten Tomatoes OOD set, 10,662 reviews)")
    max_length: int = Field(512, ge=8, le=4096, description="tokens per review (longer ones are truncated)")
    mini_train: int = Field(1200, ge=40, description="mini source: training reviews")
    mini_test: int = Field(600, ge=20, description="mini source: test (and OOD) reviews")
    mini_label_noise: float = Field(
        0.12, ge=0, lt=0.5, description="mini source: share of reviews whose label contradicts their words "
        "(only memorising a training review fits it, which is what makes train accuracy exceed test)")
    mini_seed: int = Field(0, description="mini source: seed of the generator")


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="imdb",
        factory="mubench_imdb.task:ImdbTask",
        summary="IMDB movie-review sentiment (2 classes); OOD: Rotten Tomatoes",
        args=ImdbArgs,
        kind="classification",
        modality="text",
        sources=("hub", "mini"),
        has_ood=True,
        recipes=RECIPES,
        unlearning=UNLEARNING,
    )
