"""BioFact task: people and atomic facts from the hub / a local file, or the fictional mini people;
FActScore-style scoring with a deterministic matcher (no retrieval, no LLM judge offline)."""
from __future__ import annotations

import re

import torch

from mubench_harness.contracts import TrainRecipe
from mubench_harness.generative.causal import CausalLMTask
from mubench_harness.generative.settings import for_source
from mubench_harness.generative.sources import load_hub_or_mirror
from mubench_harness.generative.text import bytes_to_texts

from . import GENERATION
from .mini import fictional_people

DEFAULTS = {"mini": {"max_prompt_tokens": 12, "max_target_tokens": 24},
            "hub": {"max_prompt_tokens": 64, "max_target_tokens": 512}}
STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but is was were are be been being as that this it its his her "
    "their he she they who which whom has had have do did not no also into than then there".split())
WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str, exclude: frozenset[str] = frozenset()) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in exclude}


def fact_recall(generated: str, name: str, facts: list[str], threshold: float) -> float:
    """Share of ``facts`` reproduced by ``generated``: a fact counts when at least ``threshold`` of its
    content words (the person's name excluded: the prompt gives it away) occur in the generation."""
    name_words = frozenset(WORD.findall(name.lower()))
    said = content_words(generated)
    counted = hits = 0
    for fact in facts:
        words = content_words(fact, name_words)
        if not words:
            continue  # a fact that only restates the name carries nothing to check
        counted += 1
        hits += len(words & said) / len(words) >= threshold
    return hits / counted if counted else 0.0


class BioFactTask(CausalLMTask):
    #: fine-tunes the tiny LLaMA on the mini people so it knows them before unlearning (the paper
    #: starts from Alpaca/Vicuna, which already know the real people)
    recipe = TrainRecipe(epochs=30, lr=5e-3, batch_size=16, optimizer="adamw")

    @property
    def decoding(self):
        """The args' decoding, or the loaded source's default (``mubench_biofact.GENERATION``)."""
        return for_source(self.args, "decoding", self.source, GENERATION)

    def _arg(self, name, default):
        value = getattr(self.args, name, None)
        return value if value is not None else DEFAULTS.get(self.source, {}).get(name, default)

    def _people_from_source(self, source: str) -> list[dict]:
        a = self.args
        if source == "mini":
            return fictional_people(a.n_people, a.data_seed)
        if source != "hub":
            raise ValueError(f"biofact: unknown source {source!r} (hub or mini)")
        if a.hub_id is None and a.path is None:
            raise ValueError("biofact: source 'hub' needs args.hub_id or args.path (people with atomic facts)")
        where = a.path or a.hub_id
        data = load_hub_or_mirror(a.hub_id, a.path, ("train",))
        if "train" not in data:
            raise ValueError(f"biofact {where}: no 'train' split / file")
        return [self._person(row, where, i) for i, row in enumerate(data["train"])]

    @staticmethod
    def _person(row: dict, where: str, i: int) -> dict:
        if "name" in row and "facts" in row:  # our schema
            name, facts = row["name"], row["facts"]
            if not isinstance(facts, (list, tuple)) or not all(isinstance(f, str) for f in facts):
                raise ValueError(f"biofact {where} row {i}: 'facts' must be a list of strings, got {facts!r:.80}")
            facts = list(facts)
            biography = row.get("biography") or " ".join(facts)
        elif "topic" in row and "annotations" in row:  # FActScore's labelled data: keep supported facts
            name = row["topic"]
            facts = [f["text"] for sent in (row["annotations"] or []) for f in (sent.get("human-atomic-facts") or [])
                     if f.get("label") == "S"]
            biography = " ".join(facts)
        else:
            raise ValueError(f"biofact {where} row {i}: need columns name+facts or topic+annotations, got {sorted(row)}")
        if not name or not facts:
            raise ValueError(f"biofact {where} row {i}: empty name or no facts")
        return {"name": name, "facts": facts, "biography": biography}

    def load(self, source):
        from datasets import Dataset, DatasetDict

        self.source = source
        people = self._people_from_source(source)
        order = torch.randperm(len(people), generator=torch.Generator().manual_seed(self.args.split_seed)).tolist()
        n_test = int(round(len(people) * self.args.test_fraction))
        test, train = sorted(order[:n_test]), sorted(order[n_test:])
        return DatasetDict({"train": Dataset.from_list([people[i] for i in train]),
                            "test": Dataset.from_list([people[i] for i in test])})

    def examples(self, dataset):
        names, facts = dataset["name"], dataset["facts"]
        return {"source": [self.args.prompt_template.format(name=n) for n in names],
                "target": list(dataset["biography"]),
                # the scorer needs the name (excluded from matching) and the facts: one per line
                "reference": ["\n".join([n, *(f.replace("\n", " ") for f in fs)]) for n, fs in zip(names, facts)]}

    def score_texts(self, generated, batch):
        judge = self.judge()
        scores = []
        for text, ref in zip(generated, bytes_to_texts(batch["reference"])):
            name, *facts = ref.split("\n")
            scores.append(judge.fact_support(text, facts) if judge is not None
                          else fact_recall(text, name, facts, self.args.fact_threshold))
        return torch.tensor(scores, dtype=torch.float32)

    def judge(self):
        """The model judge ``args.judge`` names (loaded once), or ``None``: the lexical matcher."""
        a = self.args
        if a.judge is None:
            return None
        if getattr(self, "_judge", None) is None or self._judge.name != a.judge:
            from mubench_harness.generative.judge import NLIJudge

            self._judge = NLIJudge(a.judge, threshold=a.judge_threshold)
        return self._judge
