"""BioFact's model judge (``args.judge``): a local NLI classifier loaded through the real
``from_pretrained`` path decides which facts a generation supports; the lexical matcher stays the default."""
from __future__ import annotations

import pytest
import torch

from mubench_harness.generative.judge import NLIJudge
from mubench_harness.generative.text import texts_to_bytes
from mubench_harness.hf import word_tokenizer
from mubench_harness.testing import build_task

LABELS = {0: "contradiction", 1: "neutral", 2: "entailment"}


def tiny_nli(folder, favour: int, labels=LABELS):
    """A tiny BERT NLI classifier saved as a hub folder; its head always prefers class ``favour``."""
    from transformers import BertConfig, BertForSequenceClassification

    tok = word_tokenizer(["ada lovelace was a mathematician", "marie curie was a physicist"])
    config = BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, num_labels=len(labels), id2label=labels,
                        label2id={v: k for k, v in labels.items()})
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([5.0 if i == favour else 0.0 for i in range(len(labels))]))
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_judge_counts_the_facts_the_classifier_entails(tmp_path):
    yes = NLIJudge(tiny_nli(tmp_path / "yes", favour=2), device=torch.device("cpu"))
    no = NLIJudge(tiny_nli(tmp_path / "no", favour=0), device=torch.device("cpu"))
    facts = ["ada lovelace was a mathematician", "marie curie was a physicist"]
    assert yes.fact_support("ada lovelace was a mathematician", facts) == 1.0
    assert no.fact_support("ada lovelace was a mathematician", facts) == 0.0
    assert yes.fact_support("anything", []) == 0.0


def test_a_judge_without_an_entailment_label_is_refused(tmp_path):
    path = tiny_nli(tmp_path / "bad", favour=0, labels={0: "negative", 1: "positive"})
    with pytest.raises(ValueError, match="no single 'entailment' label"):
        NLIJudge(path, device=torch.device("cpu"))


def test_biofact_scores_with_the_named_judge_instead_of_the_lexical_matcher(tmp_path):
    reference = texts_to_bytes(["Ada Lovelace\nAda Lovelace was a mathematician.\nAda Lovelace wrote notes."], 256)
    batch = {"reference": reference}
    text = ["She liked horses."]  # shares no content word with the facts: the lexical matcher gives 0
    assert build_task("biofact").score_texts(text, batch).tolist() == [0.0]
    judged = build_task("biofact", judge=tiny_nli(tmp_path / "yes", favour=2))
    assert judged.score_texts(text, batch).tolist() == [1.0] and judged.judge().name == judged.args.judge
