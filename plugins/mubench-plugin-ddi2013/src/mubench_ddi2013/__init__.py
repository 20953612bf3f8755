"""mubench plugin ddi2013: registration only. Imports nothing heavy (no torch): listing stays fast."""
from pydantic import BaseModel, ConfigDict, Field

from mubench_harness import hookimpl
from mubench_harness.specs import MethodAdjustment, MetricSpec, TaskSpec, TrainRecipe, UnlearningRecipe, local_download

#: CLU-UML/MU-Bench experiment/ddi2013/gen_config.py: the HF Trainer (AdamW), lr 5e-5, batch 32, 20 epochs
#: to train, max 128 tokens, best epoch by accuracy
_SRC = "CLU-UML/MU-Bench experiment/ddi2013/gen_config.py"
RECIPES = {"*": TrainRecipe(epochs=20, lr=5e-5, batch_size=32, optimizer="adamw", source=_SRC)}
#: unlearning (same file): lr 5e-5 over 8 epochs; NegGrad lr ÷ 5 over 6 epochs; Bad-T lr × 10
UNLEARNING = UnlearningRecipe(lr=5e-5, epochs=8, batch_size=32, source=_SRC, methods={
    "neggrad": MethodAdjustment(lr_factor=0.2, epochs=6), "badt": MethodAdjustment(lr_factor=10)})

#: class ids of the task: 0 = no interaction (DDI-false), then the four DDI types
RELATIONS = ("false", "mechanism", "effect", "advise", "int")


#: BLURB's DDI-2013 pairs (25,296 training pairs) exist on no hub at that size: a local download
BlurbDDI = local_download("BLURB (microsoft.github.io/BLURB): its DDI-2013 {train,dev,test}.tsv, the files the "
                          "MU-Bench authors read from mubench/raw_data/ddi")


class Ddi2013Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub_id: str = Field(
        "OpenMed/DDI-Corpus-Processed",
        description="hub dataset id: one row per drug pair (sentence, drug1, drug2, relation) as in "
        "OpenMed/DDI-Corpus-Processed, or BLURB-style rows whose sentence already marks both drugs @DRUG$")
    path: BlurbDDI | None = Field(None, description="local copy read instead of the hub: BLURB's {train,dev,test}.tsv, "
                                  "a DatasetDict.save_to_disk folder, or a folder of data files")
    max_length: int = Field(256, ge=8, le=4096, description="tokens per sentence (longer ones are truncated)")
    mini_train: int = Field(1200, ge=50, description="mini source: training pairs")
    mini_test: int = Field(600, ge=25, description="mini source: test pairs")
    mini_label_noise: float = Field(0.1, ge=0, lt=0.5, description="mini source: share of pairs with a contradicting label")
    mini_seed: int = Field(0, description="mini source: seed of the generator")


class MacroF1Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    negative_label: int | None = Field(0, description="class left out of the macro average (DDI-false); None keeps all")


@hookimpl
def mubench_tasks():
    yield TaskSpec(
        name="ddi2013",
        factory="mubench_ddi2013.task:Ddi2013Task",
        summary="DDI-2013 relation extraction: the interaction type of two marked drugs (5 classes); "
                "accuracy, and macro-F1 over the four DDI types",
        args=Ddi2013Args,
        kind="classification",
        modality="text",
        sources=("hub", "mini"),
        has_ood=False,
        recipes=RECIPES,
        unlearning=UNLEARNING,
    )


@hookimpl
def mubench_metrics():
    yield MetricSpec(
        name="ddi_macro_f1",
        factory="mubench_ddi2013.metric:MacroF1",
        summary="Macro-F1 over the positive classes per split, from the 'pred' and 'label' signals "
                "(DDI-2013's literature metric); n/a for tasks without those signals",
        args=MacroF1Args,
        direction="info",
        values=("test/macro_f1", "forget/macro_f1", "retain/macro_f1", "ood/macro_f1"),
        formula="macro-F1 = mean over the 4 interaction types c of 2·P_c·R_c / (P_c + R_c) "
                "(class 0, no interaction, excluded), from predicted vs true labels",
    )
