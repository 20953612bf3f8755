"""SAMSum task: real loading (hub or mirror), the generated mini corpus, and the seq2seq primitives."""
from __future__ import annotations

from mubench_harness.contracts import TrainRecipe
from mubench_harness.generative.seq2seq import Seq2SeqTask
from mubench_harness.generative.settings import for_source
from mubench_harness.generative.sources import load_hub_or_mirror, require_columns

from . import GENERATION
from .mini import mini_dialogues

#: per-source default widths: the mini dialogues are short, real chats need T5's usual 512 / 128
DEFAULTS = {"mini": {"max_source_tokens": 48, "max_target_tokens": 28},
            "hub": {"max_source_tokens": 512, "max_target_tokens": 128}}


class SAMSumTask(Seq2SeqTask):
    #: fits the tiny T5 to the mini dialogues in seconds (and overfits them: train ROUGE > test)
    recipe = TrainRecipe(epochs=15, lr=5e-3, batch_size=32, optimizer="adamw")

    @property
    def decoding(self):
        """The args' decoding, or the loaded source's default (``mubench_samsum.GENERATION``)."""
        return for_source(self.args, "decoding", self.source, GENERATION)

    def _arg(self, name, default):
        value = getattr(self.args, name, None)
        return value if value is not None else DEFAULTS.get(self.source, {}).get(name, default)

    def load(self, source):
        from datasets import Dataset, DatasetDict

        self.source = source
        a = self.args
        if source == "mini":
            splits = mini_dialogues(a.n_train, a.n_test, a.data_seed)
            return DatasetDict({k: Dataset.from_list(v) for k, v in splits.items()})
        if source != "hub":
            raise ValueError(f"samsum: unknown source {source!r} (hub or mini)")
        data = load_hub_or_mirror(a.hub_id, a.path, ("train", "test"))
        for split, ds in data.items():
            require_columns(ds, ("dialogue", "summary"), f"samsum {a.path or a.hub_id} [{split}]")
        data = DatasetDict({k: v.select_columns(["id", "dialogue", "summary"]) if "id" in v.column_names
                            else v.select_columns(["dialogue", "summary"]) for k, v in data.items()})
        if a.ood_hub_id or a.ood_path:
            ood = load_hub_or_mirror(a.ood_hub_id, a.ood_path, ("test",))["test"]
            require_columns(ood, ("document", "summary"), f"samsum OOD {a.ood_path or a.ood_hub_id}")
            ood = ood.shuffle(seed=0).select(range(min(a.ood_limit, len(ood))))
            # XSum's article plays the dialogue's role: the same summariser, a shifted input style
            ood = ood.rename_column("document", "dialogue").select_columns(["dialogue", "summary"])
            data["ood"] = ood
        return data

    def examples(self, dataset):
        dialogues, summaries = dataset["dialogue"], dataset["summary"]
        # real SAMSum has a few empty dialogues; keep rows aligned with the dataset, never drop them
        dialogues = [d if d else "" for d in dialogues]
        summaries = [s if s else "" for s in summaries]
        return {"source": dialogues, "target": summaries, "reference": summaries}
